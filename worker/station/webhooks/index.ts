// Webhooks of a station: endpoints (store, secrets sealed under WEBHOOK_SECRET_KEY), the queue
// of deliveries per endpoint (ordered or not, delayed messages passed over), the dispatcher that
// sends them signed per Standard Webhooks with retries, and the URL guard (public https hosts,
// resolved over DNS) the Worker applies before an endpoint is stored.
export { DOH_URL, guardWebhookUrl, resolverFor } from "./dns";
export { loadKeyRing, sealEndpointSecrets, secretKeyProblem } from "./secrets";
export { StationWebhooks } from "./station-webhooks";
export { allowsPrivateWebhooks } from "./url";

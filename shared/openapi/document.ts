// Builds the OpenAPI 3.1 document of the HTTP API from the route table (routes.ts) and the
// shared/ valibot schemas, converted with @valibot/to-json-schema. Nothing here is written by
// hand twice: statuses come from ERROR_STATUS, shapes from the schemas. Pure: no I/O.
import { type ConversionConfig, type JsonSchema, toJsonSchema, toJsonSchemaDefs } from "@valibot/to-json-schema";
import * as v from "valibot";
import { StationConfigSchema } from "../config";
import { DeadLetterIdParamSchema, DeadLetterSchema, DeadLettersResponseSchema } from "../dead-letters";
import { DocStateSchema } from "../docs";
import { ERROR_STATUS, type ErrorCode, ErrorCode as Codes } from "../errors";
import { AckResponseSchema, FetchResponseSchema, GroupConfigSchema, NackResponseSchema } from "../groups";
import { MessageSchema, ProduceRequestSchema, ProduceResponseSchema, ProduceResultSchema, ReadResponseSchema } from "../messages";
import { GROUP_NAME_PATTERN, STATION_NAME_PATTERN } from "../names";
import { SchemaVersionParamSchema, StationSchemaResponseSchema } from "../schemas";
import { MintTokenRequestSchema, TokenClaimsSchema } from "../tokens";
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from "../version";
import { PutWebhookRequestSchema, WEBHOOK_ID_HEADER, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER } from "../webhooks";
import * as answers from "./answers";
import { ROUTES, type RouteSpec } from "./routes";
import { convertibleSchema } from "./convert";

/** Where the worker serves the document (no token needed). */
export const OPENAPI_PATH = "/openapi.json";

type Json = Record<string, unknown>;

/** Answers are named components (a generated client gets one type per name); `$ref`s point there. */
const ANSWER_COMPONENTS = {
  Message: MessageSchema,
  ProduceResult: ProduceResultSchema,
  ProduceResponse: ProduceResponseSchema,
  ReadResponse: ReadResponseSchema,
  FetchResponse: FetchResponseSchema,
  AckResponse: AckResponseSchema,
  NackResponse: NackResponseSchema,
  StationConfig: StationConfigSchema,
  StationInfo: answers.StationInfoSchema,
  StationList: answers.StationListSchema,
  Deleted: answers.DeletedSchema,
  GroupInfo: answers.GroupInfoSchema,
  DeadLetter: DeadLetterSchema,
  DeadLetters: DeadLettersResponseSchema,
  ResendResponse: answers.ResendResponseSchema,
  DropResponse: answers.DropResponseSchema,
  DocState: DocStateSchema,
  StationSchema: StationSchemaResponseSchema,
  WebhookInfo: answers.WebhookInfoSchema,
  PutWebhookResponse: answers.PutWebhookResponseSchema,
  WebhookList: answers.WebhookListSchema,
  WebhookPayload: answers.WebhookPayloadSchema,
  SchemaVersion: answers.SchemaVersionSchema,
  PutSchemaResponse: answers.PutSchemaResponseSchema,
  SchemaVersions: answers.SchemaVersionsResponseSchema,
  SchemaList: answers.SchemaListResponseSchema,
  TokenClaims: TokenClaimsSchema,
  MintTokenResponse: answers.MintTokenResponseSchema,
  Health: answers.HealthSchema,
  ErrorBody: answers.ErrorBodySchema,
} satisfies Record<string, v.GenericSchema>;

/** Path segments, by the name the templates give them. */
const PATH_PARAMS: Record<string, { schema: v.GenericSchema; description: string; code: ErrorCode }> = {
  station: { schema: v.pipe(v.string(), v.regex(STATION_NAME_PATTERN)), description: "Station name", code: Codes.InvalidName },
  group: { schema: v.pipe(v.string(), v.regex(GROUP_NAME_PATTERN)), description: "Consumer group name", code: Codes.InvalidName },
  webhook: { schema: v.pipe(v.string(), v.regex(GROUP_NAME_PATTERN)), description: "Webhook endpoint name", code: Codes.InvalidName },
  schema: { schema: v.pipe(v.string(), v.regex(STATION_NAME_PATTERN)), description: "Schema name", code: Codes.InvalidName },
  version: { schema: SchemaVersionParamSchema, description: "A version number or `latest`", code: Codes.InvalidRequest },
  id: { schema: DeadLetterIdParamSchema, description: "Dead letter id", code: Codes.InvalidRequest },
};

/** Codes any request can meet: the edge's bounds, a browser origin not allowed, a bug, a DO reset. */
const EVERY_ROUTE: ErrorCode[] = [Codes.UriTooLong, Codes.HeadersTooLarge, Codes.Forbidden, Codes.Internal, Codes.Unavailable];
/** …behind a bearer token. */
const AUTHENTICATED: ErrorCode[] = [Codes.Unauthorized, Codes.Forbidden, Codes.RateLimited, Codes.NotConfigured];
/** …with a JSON body. */
const WITH_BODY: ErrorCode[] = [Codes.InvalidJson, Codes.PayloadTooLarge, Codes.UnsupportedMediaType, Codes.InvalidRequest];

/**
 * The whole document. `serverUrl` is where this worker answers (the request's origin), so a
 * client generated from the served document points at the right place.
 */
export function buildOpenApiDocument(serverUrl?: string): Json {
  const output = converter("output");
  const input = converter("input");
  // A copy: the converter may hand out one object for a schema used on both sides, and the
  // answer side is edited below (requireDefaults).
  const components = JSON.parse(JSON.stringify(toJsonSchemaDefs(ANSWER_COMPONENTS, output.config))) as Json;
  // Request bodies and parameters stay inline, on the input side (defaults optional, before
  // transforms): generators such as openapi-typescript read a `default` in a shared component
  // as "always present", which is true of answers only.
  // A named answer is a `$ref`; anything else converts on its own (converting with every
  // definition at hand would convert all of them again, each time).
  const names = new Map<v.GenericSchema, string>(Object.entries(ANSWER_COMPONENTS).map(([name, schema]) => [schema, name]));
  const refOf = (schema: v.GenericSchema, side: "input" | "output"): JsonSchema => {
    const name = side === "output" ? names.get(schema) : undefined;
    if (name) return { $ref: `#/components/schemas/${name}` };
    return (side === "input" ? input : output).convert(schema);
  };

  const paths: Record<string, Json> = {};
  const errorResponses: Record<string, Json> = {};
  for (const route of [...ROUTES, OPENAPI_ROUTE]) {
    (paths[route.path] ??= {})[route.method] = operationOf(route, refOf, errorResponses);
  }
  return {
    openapi: "3.1.0",
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    info: {
      title: "Waystation",
      version: `protocol ${PROTOCOL_VERSION}`,
      summary: "Offline-first message broker for the edge: stations, consumer groups, dead letters, schemas, signed webhooks.",
      description:
        "Every refused request answers `{\"error\": {\"code\", \"message\", …details}}` with a stable `code` (shared/errors.ts). " +
        `Answers carry \`${PROTOCOL_HEADER}: ${PROTOCOL_VERSION}\`. A known path with a method it does not take answers 405 \`method_not_allowed\` with \`Allow\`; an unknown path 404 \`not_found\`.`,
      license: { name: "MIT", identifier: "MIT" },
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    security: [{ bearer: [] }],
    tags: [...new Set(ROUTES.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    webhooks: { message: { post: webhookOperation(refOf) } },
    components: {
      schemas: requireDefaults(stripSchemaKeywords(components), Object.keys(ANSWER_COMPONENTS)),
      responses: errorResponses,
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "The worker's ADMIN_TOKEN, or a scoped token (HS256 JWT) minted with POST /v1/tokens." },
      },
    },
  };
}

/** The document describes itself too. */
const OPENAPI_ROUTE: RouteSpec = {
  method: "get", path: OPENAPI_PATH, operationId: "getOpenApi", tag: "health", right: "public",
  summary: "This OpenAPI 3.1 document, generated from the shared/ schemas",
  answers: { 200: { description: "The OpenAPI document", schema: v.record(v.string(), v.unknown()) } }, errors: [],
};

/**
 * One operation. Error answers are shared components named after their codes
 * (`refused.invalid_json.invalid_name`), so the many routes that refuse alike point at one.
 */
function operationOf(route: RouteSpec, refOf: (schema: v.GenericSchema, side: "input" | "output") => JsonSchema, errorResponses: Record<string, Json>): Json {
  const pathNames = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  const codes = new Set<ErrorCode>([...EVERY_ROUTE, ...route.errors]);
  if (route.right !== "public") AUTHENTICATED.forEach((code) => codes.add(code));
  if (route.body) WITH_BODY.forEach((code) => codes.add(code));
  if (route.query || route.webSocket) codes.add(Codes.InvalidRequest);
  for (const name of pathNames) codes.add(paramOf(name).code);

  const parameters = [
    ...pathNames.map((name) => ({ name, in: "path", required: true, description: paramOf(name).description, schema: refOf(paramOf(name).schema, "input") })),
    ...Object.entries(route.query?.entries ?? {}).map(([name, schema]) => {
      const converted = refOf(schema, "input");
      return { name, in: "query", required: false, schema: converted, ...(converted.description ? { description: converted.description } : {}) };
    }),
  ];
  const responses: Json = {};
  for (const [status, answer] of Object.entries(route.answers)) {
    const content: Json = {};
    if (answer.schema) content["application/json"] = { schema: refOf(answer.schema, "output") };
    if (answer.alternative) content[answer.alternative.mediaType] = { schema: { type: "string" } };
    const description = answer.alternative ? `${answer.description}. ${answer.alternative.description}` : answer.description;
    responses[status] = Object.keys(content).length > 0 ? { description, content } : { description };
  }
  for (const [status, statusCodes] of byStatus(codes)) {
    const name = ["refused", ...statusCodes].join(".");
    errorResponses[name] ??= errorResponse(status, statusCodes, refOf);
    responses[status] = { $ref: `#/components/responses/${name}` };
  }

  return {
    operationId: route.operationId,
    summary: route.summary,
    description: `Right: ${route.right === "public" ? "none (no token)" : route.right}.${route.webSocket ? " Send `Upgrade: websocket`; without it the answer is 422 `invalid_request`." : ""}`,
    tags: [route.tag],
    ...(route.right === "public" ? { security: [] } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body
      ? {
          requestBody: {
            required: route.body.required,
            ...(route.body.description ? { description: route.body.description } : {}),
            content: { "application/json": { schema: refOf(route.body.schema, "input") } },
          },
        }
      : {}),
    responses,
  };
}

function paramOf(name: string) {
  const param = PATH_PARAMS[name];
  if (!param) throw new Error(`No description of path parameter {${name}}: add it to PATH_PARAMS`);
  return param;
}

/** Codes grouped by their one HTTP status, statuses ascending. */
function byStatus(codes: Iterable<ErrorCode>): Array<[string, ErrorCode[]]> {
  const groups = new Map<number, ErrorCode[]>();
  for (const code of codes) (groups.get(ERROR_STATUS[code]) ?? groups.set(ERROR_STATUS[code], []).get(ERROR_STATUS[code])!).push(code);
  return [...groups.entries()].sort(([a], [b]) => a - b).map(([status, list]) => [String(status), list.sort()]);
}

function errorResponse(status: string, codes: ErrorCode[], refOf: (schema: v.GenericSchema, side: "output") => JsonSchema): Json {
  const headers: Json = {};
  if (status === "429" || status === "503") headers["Retry-After"] = { description: "Seconds to wait before trying again", schema: { type: "string" } };
  if (status === "401") headers["WWW-Authenticate"] = { description: "`Bearer`", schema: { type: "string" } };
  return {
    description: `Refused: ${codes.map((code) => `\`${code}\``).join(", ")}`,
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    content: { "application/json": { schema: refOf(answers.errorBodySchema(codes), "output") } },
  };
}

/** Each delivery to a webhook endpoint, signed per Standard Webhooks (https://www.standardwebhooks.com/). */
function webhookOperation(refOf: (schema: v.GenericSchema, side: "output") => JsonSchema): Json {
  const header = (name: string, description: string, schema: Json) => ({ name, in: "header", required: true, description, schema });
  return {
    operationId: "deliverMessage",
    summary: "A message delivered to a webhook endpoint",
    description:
      "`POST` of one message to the endpoint's URL. Verify it as Standard Webhooks does: HMAC-SHA256, keyed with the base64 bytes after `whsec_`, " +
      "over `{webhook-id}.{webhook-timestamp}.{body}`; compare with each signature of `webhook-signature` and refuse a timestamp far from now. " +
      "Any 2xx within the endpoint's `timeoutMs` is a delivery; anything else is retried on the endpoint's schedule, then dead-lettered (`webhook_failed`); 410 disables the endpoint.",
    tags: ["webhooks"],
    security: [],
    parameters: [
      header(WEBHOOK_ID_HEADER, "The delivery's id: the same on every retry of this message to this endpoint (deduplicate on it)", { type: "string", minLength: 1 }),
      header(WEBHOOK_TIMESTAMP_HEADER, "When this attempt was signed, in seconds since the Unix epoch", { type: "string", pattern: "^[0-9]{1,12}$" }),
      header(WEBHOOK_SIGNATURE_HEADER, "Space-separated `v1,<base64 signature>`; two or more while a rotated-out secret still signs", {
        type: "string",
        pattern: "^v1,[A-Za-z0-9+/=]+( v1,[A-Za-z0-9+/=]+)*$",
      }),
    ],
    requestBody: { required: true, content: { "application/json": { schema: refOf(answers.WebhookPayloadSchema, "output") } } },
    responses: {
      "2XX": { description: "Delivered" },
      "410": { description: "Gone: the endpoint is disabled" },
      default: { description: "Not delivered: retried on the endpoint's schedule" },
    },
  };
}

/** One converter per side, with `$ref`s into components/schemas for the named schemas. */
function converter(typeMode: "input" | "output") {
  const config: ConversionConfig = {
    target: "draft-2020-12",
    typeMode,
    errorMode: "throw",
    ...convertibleSchema,
    overrideRef: ({ referenceId }) => `#/components/schemas/${referenceId}`,
  };
  return {
    config,
    convert(schema: v.GenericSchema): JsonSchema {
      const { $schema: _, $defs: defs, ...rest } = toJsonSchema(schema, config) as JsonSchema & { $defs?: Json };
      // Definitions the converter made up itself would be lost here: name such a schema instead.
      if (defs && Object.keys(defs).length > 0) throw new Error(`Name ${Object.keys(defs).join(", ")} in ANSWER_COMPONENTS`);
      return rest;
    },
  };
}

/** Component schemas sit inside the document, whose dialect is declared once. */
function stripSchemaKeywords(schemas: Json): Json {
  return Object.fromEntries(Object.entries(schemas).map(([name, schema]) => [name, withoutSchemaKeyword(schema as Json)]));
}

function withoutSchemaKeyword(schema: Json): Json {
  const { $schema: _, ...rest } = schema;
  return rest;
}

/**
 * On the answer side a field with a default is always there (the worker sends the parsed value),
 * so it is required; the converter marks only the input side's rule (optional with a default).
 */
function requireDefaults(schemas: Json, answerNames: readonly string[]): Json {
  const visit = (schema: unknown): void => {
    if (typeof schema !== "object" || schema === null) return;
    if (Array.isArray(schema)) return schema.forEach(visit);
    const node = schema as { properties?: Record<string, Json>; required?: string[] };
    if (node.properties) {
      const withDefault = Object.entries(node.properties).filter(([, property]) => "default" in property).map(([name]) => name);
      if (withDefault.length > 0) node.required = [...new Set([...(node.required ?? []), ...withDefault])];
    }
    Object.values(node).forEach(visit);
  };
  for (const name of answerNames) visit(schemas[name]);
  return schemas;
}

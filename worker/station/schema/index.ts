// The station's message schema: compiled versions from the catalog (cache), and the check of a
// produce batch against them before anything is written (screen). JSON Schema and protobuf
// compilation itself lives in worker/schemas/, shared with the catalog.
export { LATEST_RECHECK_MS, type SchemaChoice, SchemaCache, type StationSchemaText } from "./cache";
export { deadLetterViolation, refuseBatch, schemaRefusal, screenBatch } from "./screen";

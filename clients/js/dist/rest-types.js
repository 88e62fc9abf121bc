/**
 * The REST API's shapes (docs/api.md; every answer model is in the server's `GET /openapi.json`):
 * field names are the API's snake_case. test/types checks them against real answers.
 */
export {};

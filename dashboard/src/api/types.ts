import type { components, operations } from "./schema";

/** Schema is a shape of the API by its OpenAPI name: generated, never written by hand. */
export type Schema<K extends keyof components["schemas"]> = components["schemas"][K];

/** Query is the query parameters of an operation, by its operationId. */
export type Query<Op extends keyof operations> = NonNullable<operations[Op]["parameters"]["query"]>;

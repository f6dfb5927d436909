/** What the Hono app's middleware hands its handlers (`c.get(...)`). */
export type AppEnvironment = {
  Variables: {
    /** The request's id (middleware/request-id.ts). */
    requestId: string;
    /** The prediction body as bytes, for the workers (middleware/raw-body.ts). */
    body: Uint8Array;
  };
};

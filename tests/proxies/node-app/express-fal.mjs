import express from "express";
import { createHandler } from "@fal-ai/server-proxy/express";
import { DEFAULT_ALLOWED_URL_PATTERNS } from "@fal-ai/server-proxy";

export const app = express();
app.use(express.json({ limit: "10mb" })); // the handler forwards req.body (express.json's default limit is 100 kB)
app.all("/api/fal/proxy", createHandler({
  allowedUrlPatterns: [
    ...DEFAULT_ALLOWED_URL_PATTERNS, // fal.run, queue.fal.run, simple uploads
    "fal.ai/api/openapi/queue/openapi.json\\?endpoint_id=*{,/**}", // schemas, for validation
    "rest.fal.ai/tokens/", // realtime tokens
    "rest.fal.ai/storage/upload/initiate-multipart\\?storage_type=fal-cdn-v3", // uploads over 90 MiB
  ],
}));

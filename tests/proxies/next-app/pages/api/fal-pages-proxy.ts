import { createPageRouterHandler } from "@fal-ai/server-proxy/nextjs";
import { DEFAULT_ALLOWED_URL_PATTERNS } from "@fal-ai/server-proxy";

export default createPageRouterHandler({
  allowedUrlPatterns: [
    ...DEFAULT_ALLOWED_URL_PATTERNS, // fal.run, queue.fal.run, simple uploads
    "fal.ai/api/openapi/queue/openapi.json\\?endpoint_id=*{,/**}", // schemas, for validation
    "rest.fal.ai/tokens/", // realtime tokens
    "rest.fal.ai/storage/upload/initiate-multipart\\?storage_type=fal-cdn-v3", // uploads over 90 MiB
  ],
});

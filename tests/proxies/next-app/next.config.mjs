/** @type {import("next").NextConfig} */
export default {
  // Next's gzip holds back the status stream (SSE) until the job ends.
  compress: false,
};

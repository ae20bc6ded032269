import { nextPagesHandler } from "genwire/proxy";

export const config = { api: { bodyParser: false } };
export default nextPagesHandler();

import { Hono } from "hono";
import { honoHandler } from "genwire/proxy";

export const app = new Hono();
app.all("/api/fal/proxy", honoHandler());

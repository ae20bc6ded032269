import express from "express";
import { nodeHandler } from "genwire/proxy";

export const app = express();
app.all("/api/fal/proxy", nodeHandler()); // before any body parser: it reads the body itself

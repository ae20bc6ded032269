import { nextRoute } from "genwire/proxy";

export const { GET, POST, PUT } = nextRoute();

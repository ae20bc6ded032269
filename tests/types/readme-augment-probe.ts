// Checked by tests/types/readme.mjs with each README block that augments "genwire" (`declare module`):
// the endpoints it declares must reach the package's own `Endpoints` and type a call by id (a block
// declaring an interface the package no longer reads would otherwise pass unnoticed).
import { createClient, type Endpoints } from "genwire";

type Id = keyof Endpoints & string;
type IsAny<T> = 0 extends 1 & T ? true : false;
declare const endpoint: Id;
declare const typedInput: Endpoints[Id] extends { input: infer I } ? I : never;

const reached: [Id] extends [never] ? "no endpoint reached genwire's Endpoints" : true = true;
const result = await createClient().subscribe(endpoint, { input: typedInput });
const typed: IsAny<typeof result.data> extends true ? "data is still untyped" : true = true;
void reached;
void typed;
export {};

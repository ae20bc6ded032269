// A server component: prerendered by `next build`, with the client component below rendered in its
// idle state on the server (genwire touches neither wasm nor window while rendering).
import { Demo } from "./Demo";

export default function Page() {
  return (
    <main>
      <h1>genwire in Next.js</h1>
      <Demo />
    </main>
  );
}

// The page tests/proxies.test.mjs drives: genwire as window.genwire; the proxy routes are under api/.
import { Sandbox } from "./Sandbox";

export default function Page() {
  return (
    <main>
      <Sandbox />
    </main>
  );
}

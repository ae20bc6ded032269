// The packed genwire in a plain Vite + React app; the page itself is shared/GenwireDemo.tsx.
import { GenwireDemo } from "./GenwireDemo";

export function App() {
  return (
    <>
      <h1>genwire in Vite</h1>
      <GenwireDemo realtimeUrl={import.meta.env.VITE_GENWIRE_REALTIME_URL} />
    </>
  );
}

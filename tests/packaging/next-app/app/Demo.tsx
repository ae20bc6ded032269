"use client";
// The packed genwire in a Next.js App Router page; the page itself is shared/GenwireDemo.tsx.
import { GenwireDemo } from "./GenwireDemo";

export function Demo() {
  return <GenwireDemo realtimeUrl={process.env.NEXT_PUBLIC_GENWIRE_REALTIME_URL} />;
}

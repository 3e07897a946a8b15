// The router package (express's) ships no types for its internal symbols module.
declare module 'router/lib/symbols' {
  /** Set on every routed request: the pattern of the layer that matched (tracing). */
  export const matchedRoute: unique symbol;
}

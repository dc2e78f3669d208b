// Test-only, loaded with `node --import`: on the first SIGTERM, once every handler has run (the
// service's starts its stop and the deadline), the main thread spins forever in synchronous code, as a
// stuck stop would. The deadline has to end the process anyway. `once`, so the handler is gone and a
// second SIGTERM gets its default action.
process.once('SIGTERM', () => {
  queueMicrotask(() => {
    for (;;);
  });
});

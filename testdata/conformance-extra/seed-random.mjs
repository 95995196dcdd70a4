// Preloaded by the recorder (node --import ./seed-random.mjs record.mjs ...)
// so that recording this corpus is repeatable: auth-js draws PKCE code
// verifiers and flow ids from crypto.getRandomValues, which this replaces
// with a fixed-seed generator (mulberry32). The values stay random-looking
// and are still compared by relation, not by value, when the corpus is
// replayed (see README.md). Never use this outside recording.
let state = 0x5eed2026;
function next() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}
globalThis.crypto.getRandomValues = function getRandomValues(array) {
  const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  for (let i = 0; i < bytes.length; i++) bytes[i] = next() & 0xff;
  return array;
};

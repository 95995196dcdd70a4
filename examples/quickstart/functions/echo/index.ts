// echo answers the claims of the JWT it was called with, as the local
// stack's built-in echo does. Deploy it with JWT verification on (the
// default): `supabase functions deploy echo`. The relay has verified the
// token before this runs, so its payload only needs decoding here.
Deno.serve(async (req) => {
  const token = (req.headers.get("Authorization") ?? "").replace(/^Bearer\s+/i, "");
  let claims = null;
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    claims = JSON.parse(atob(payload));
  } catch {
    // no JWT: claims stay null
  }
  const text = await req.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  return Response.json({ method: req.method, path: new URL(req.url).pathname, body, claims });
});

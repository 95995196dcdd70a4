// Writes the case files of testdata/conformance-extra (see its README.md).
//
// Run from the conformance harness folder (it imports the harness's
// scripts/make-jwt.mjs for the fake tokens):
//
//   node make-cases.mjs OUT_DIR      (default: cases-extra)
import fs from 'node:fs';
import path from 'node:path';
import { makeJwt } from './scripts/make-jwt.mjs';

const OUT = process.argv[2] ?? 'cases-extra';
const V = { 'X-Supabase-Api-Version': '2024-01-01' };
const NOW = 1767225600; // 2026-01-01T00:00:00Z
const EXP = 4102444800;

const ANON2 = makeJwt({ iss: 'supabase', ref: 'extra-corpus', role: 'anon', iat: 1710000000, exp: EXP });
const SERVICE2 = makeJwt({ iss: 'supabase', ref: 'extra-corpus', role: 'service_role', iat: 1710000000, exp: EXP });

const GRACE = { id: '3b8e6f1a-9c2d-4e7f-8a1b-5c6d7e8f9a0b', email: 'grace@example.org', phone: '', name: 'Grace Hopper',
  identity: '7d6c5b4a-3e2f-4a1b-9c8d-7e6f5a4b3c2d', session: '5e4d3c2b-1a0f-4e9d-8c7b-6a5f4e3d2c1b' };
const LINUS = { id: '9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a', email: 'linus@example.io', phone: '4915112345678', name: 'Linus',
  identity: '2a3b4c5d-6e7f-4081-92a3-b4c5d6e7f809', session: '8b7a6f5e-4d3c-4b2a-9f8e-7d6c5b4a3f2e' };
const MARGARET = { id: 'c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f', email: 'margaret@example.net', phone: '', name: 'Margaret Hamilton',
  identity: 'f0e1d2c3-b4a5-4697-8879-6a5b4c3d2e1f', session: '0a9b8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d' };

function user(u, extra = {}) {
  const ident = {
    identity_id: u.identity, id: u.id, user_id: u.id,
    identity_data: { email: u.email, email_verified: true, phone_verified: false, sub: u.id },
    provider: 'email', last_sign_in_at: '2025-12-30T08:15:00.000000Z',
    created_at: '2025-11-20T12:00:00.000000Z', updated_at: '2025-12-30T08:15:00.000000Z', email: u.email,
  };
  return {
    id: u.id, aud: 'authenticated', role: 'authenticated', email: u.email,
    email_confirmed_at: '2025-11-20T12:01:00.000000Z', phone: u.phone,
    confirmed_at: '2025-11-20T12:01:00.000000Z', last_sign_in_at: '2025-12-30T08:15:00.000000Z',
    app_metadata: { provider: 'email', providers: ['email'] }, user_metadata: { full_name: u.name },
    identities: [ident], created_at: '2025-11-20T12:00:00.000000Z', updated_at: '2025-12-30T08:15:00.000000Z',
    is_anonymous: false, ...extra,
  };
}

function accessToken(u, aal = 'aal1', amr = [{ method: 'password', timestamp: NOW }]) {
  return makeJwt({
    aud: 'authenticated', exp: EXP, iat: NOW, iss: 'https://extra-ref.supabase.co/auth/v1', sub: u.id,
    email: u.email, phone: u.phone, app_metadata: { provider: 'email', providers: ['email'] },
    user_metadata: { full_name: u.name }, role: 'authenticated', aal, amr, session_id: u.session, is_anonymous: false,
  });
}

function session(u, refresh, aal) {
  return { access_token: accessToken(u, aal, aal === 'aal2' ? [{ method: 'totp', timestamp: NOW + 30 }, { method: 'password', timestamp: NOW }] : undefined),
    token_type: 'bearer', expires_in: 3600, expires_at: EXP, refresh_token: refresh, user: user(u) };
}

const signIn = (u, pw = 'tr0ub4dor&3 extra') => ({ target: 'auth', chain: [{ call: 'signInWithPassword', args: [{ email: u.email, password: pw }] }] });
const signInRule = (u, refresh) => ({ match: { method: 'POST', path: '/auth/v1/token', query: { grant_type: 'password' } }, status: 200, headers: V, body: session(u, refresh) });
const db = (...chain) => ({ target: 'db', chain: chain.map(([call, ...args]) => ({ call, args })) });
const call = (target, name, ...args) => ({ target, chain: [{ call: name, args }] });
const rest = (method, p, body, extra = {}) => ({ match: { method, path: '/rest/v1/' + p }, status: 200, body, ...extra });
const authErr = (status, code, msg) => ({ status, headers: V, body: { code, message: msg } });

const files = {};
const add = (file, c) => (files[file] ??= []).push(c);

// ---------------------------------------------------------------------------
// rest_queries: select, filters, modifiers, rpc
const Q = 'rest_queries';
add(Q, { name: 'xq_select_alias_spread_embedded', description: 'select with an aliased embed, a spread embed and whitespace to strip.',
  steps: [db(['from', 'orders'], ['select', 'id, placed_at, buyer:customers ( name ), ...products ( sku )'], ['eq', 'id', 4711])],
  responses: [rest('GET', 'orders', [{ id: 4711, placed_at: '2025-12-24T18:00:00+00:00', buyer: { name: 'Grace' }, sku: 'KB-01' }])] });
add(Q, { name: 'xq_filter_eq_email_neq_status', description: 'eq with a dotted email and neq, sent as they are.',
  steps: [db(['from', 'members'], ['select', 'id,email'], ['eq', 'email', 'grace@example.org'], ['neq', 'status', 'archived'])],
  responses: [rest('GET', 'members', [{ id: 2, email: 'grace@example.org' }])] });
add(Q, { name: 'xq_filter_in_emails_with_dots', description: 'in() with email addresses: supabase-js leaves the dots unquoted.',
  steps: [db(['from', 'members'], ['select', 'id'], ['in', 'email', ['grace@example.org', 'linus@example.io']])],
  responses: [rest('GET', 'members', [{ id: 2 }, { id: 5 }])] });
add(Q, { name: 'xq_filter_in_timestamps_with_colons', description: 'in() with timestamps: colons and dots unquoted by supabase-js.',
  steps: [db(['from', 'events'], ['select', 'id,at'], ['in', 'at', ['2025-12-31T23:59:59.5Z', '2026-01-01T00:00:00Z']])],
  responses: [rest('GET', 'events', [])] });
add(Q, { name: 'xq_filter_not_in_backslash_quote', description: 'notIn() with a Windows path, embedded quotes and a plain word.',
  steps: [db(['from', 'files'], ['select', 'path'], ['notIn', 'path', ['C:\\temp\\x', 'say "cheese"', 'plain']])],
  responses: [rest('GET', 'files', [{ path: 'other' }])] });
add(Q, { name: 'xq_filter_in_only_empty_string', description: 'in() with only the empty string: supabase-js sends the empty list.',
  steps: [db(['from', 'profiles'], ['select', 'id'], ['in', 'nickname', ['']])],
  responses: [rest('GET', 'profiles', [{ id: 9 }])] });
add(Q, { name: 'xq_filter_in_decimals_and_duplicates', description: 'in() with decimal numbers and a repeated number.',
  steps: [db(['from', 'prices'], ['select', 'sku'], ['in', 'amount', [9.99, 10, 10, 0.5]])],
  responses: [rest('GET', 'prices', [{ sku: 'A' }])] });
add(Q, { name: 'xq_filter_in_number_and_same_string', description: 'in() with 7 and "7": supabase-js keeps both, they encode alike.',
  steps: [db(['from', 'codes'], ['select', 'code'], ['in', 'code', [7, '7', 'x']])],
  responses: [rest('GET', 'codes', [{ code: '7' }])] });
add(Q, { name: 'xq_filter_in_plain_values', description: 'in() with values that need no quoting, in a given order.',
  steps: [db(['from', 'tasks'], ['select', 'id'], ['in', 'id', [3, 1, 2]], ['in', 'state', ['open', 'blocked']])],
  responses: [rest('GET', 'tasks', [{ id: 1 }, { id: 3 }])] });
add(Q, { name: 'xq_filter_contains_spaces_commas', description: 'contains() with array elements holding a space and a comma.',
  steps: [db(['from', 'wines'], ['select', 'id'], ['contains', 'tags', ['red wine', 'cheese,aged']])],
  responses: [rest('GET', 'wines', [{ id: 12 }])] });
add(Q, { name: 'xq_filter_overlaps_dotted_versions', description: 'overlaps() with version strings containing dots.',
  steps: [db(['from', 'releases'], ['select', 'name'], ['overlaps', 'versions', ['1.0', '2.1']])],
  responses: [rest('GET', 'releases', [{ name: 'ice' }])] });
add(Q, { name: 'xq_filter_contained_by_null_element', description: 'containedBy() with a null element: supabase-js joins it as nothing.',
  steps: [db(['from', 'slots'], ['select', 'id'], ['containedBy', 'hours', [9, null, 17]])],
  responses: [rest('GET', 'slots', [])] });
add(Q, { name: 'xq_filter_contains_nested_arrays', description: 'contains() with a two-dimensional array.',
  steps: [db(['from', 'grids'], ['select', 'id'], ['contains', 'cells', [[1, 2], [3, 4]]])],
  responses: [rest('GET', 'grids', [{ id: 1 }])] });
add(Q, { name: 'xq_filter_ilike_all_of_spaces', description: 'ilikeAllOf() with a pattern containing spaces.',
  steps: [db(['from', 'articles'], ['select', 'title'], ['ilikeAllOf', 'title', ['%new york%', '%2026%']])],
  responses: [rest('GET', 'articles', [{ title: 'New York in 2026' }])] });
add(Q, { name: 'xq_filter_like_any_of_plain', description: 'likeAnyOf() with patterns that need no quoting.',
  steps: [db(['from', 'parts'], ['select', 'sku'], ['likeAnyOf', 'sku', ['AB%', 'CD_9%']])],
  responses: [rest('GET', 'parts', [{ sku: 'AB12' }])] });
add(Q, { name: 'xq_filter_object_range_text_search', description: 'contains() with an object, overlaps() with a range string, textSearch websearch.',
  steps: [db(['from', 'bookings'], ['select', 'id'], ['contains', 'meta', { vip: true, floor: 3 }], ['overlaps', 'during', '[2026-01-01,2026-02-01)'],
    ['textSearch', 'notes', "'late checkout' -breakfast", { type: 'websearch', config: 'english' }])],
  responses: [rest('GET', 'bookings', [{ id: 31 }])] });
add(Q, { name: 'xq_filter_or_not_is', description: 'or() with a nested and(), not(is null), isDistinct.',
  steps: [db(['from', 'tickets'], ['select', 'id'], ['or', 'status.eq.open,and(priority.gt.3,assignee.is.null)'], ['not', 'closed_at', 'is', null], ['isDistinct', 'owner', 'bot'])],
  responses: [rest('GET', 'tickets', [{ id: 77 }])] });
add(Q, { name: 'xq_modifiers_order_range_referenced', description: 'order on two levels, range, and a limit on the embedded table.',
  steps: [db(['from', 'carts'], ['select', 'id,items(id,qty)'], ['order', 'created_at', { ascending: false, nullsFirst: false }],
    ['order', 'qty', { referencedTable: 'items', ascending: true }], ['range', 20, 39], ['limit', 5, { referencedTable: 'items' }])],
  responses: [rest('GET', 'carts', [{ id: 3, items: [{ id: 8, qty: 1 }] }])] });
add(Q, { name: 'xq_modifiers_maybe_single_found', description: 'maybeSingle() with one row.',
  steps: [db(['from', 'settings'], ['select', 'key,value'], ['eq', 'key', 'theme'], ['maybeSingle'])],
  responses: [rest('GET', 'settings', { key: 'theme', value: 'dark' })] });
add(Q, { name: 'xq_modifiers_csv_with_filter', description: 'csv() with a filter and an order.',
  steps: [db(['from', 'ledger'], ['select', 'day,total'], ['gte', 'day', '2025-12-01'], ['order', 'day'], ['csv'])],
  responses: [{ match: { method: 'GET', path: '/rest/v1/ledger' }, status: 200, headers: { 'Content-Type': 'text/csv' }, bodyText: 'day,total\n2025-12-01,10\n2025-12-02,12' }] });
add(Q, { name: 'xq_count_head_in_with_space', description: 'HEAD count with in() holding a value with a space.',
  steps: [db(['from', 'stores'], ['select', '*', { count: 'exact', head: true }], ['in', 'region', ['eu-west', 'us east']])],
  responses: [{ match: { method: 'HEAD', path: '/rest/v1/stores' }, status: 200, headers: { 'Content-Range': '0-2/3' } }] });
add(Q, { name: 'xq_rpc_get_array_arguments', description: 'rpc with get: array arguments become array literals in the query.',
  steps: [db(['rpc', 'search_tags', { tags: ['rock n roll', 'jazz'], lim: 5 }, { get: true }])],
  responses: [rest('GET', 'rpc/search_tags', [{ tag: 'jazz', n: 4 }])] });
add(Q, { name: 'xq_rpc_get_plain_array', description: 'rpc with get and an array of plain numbers.',
  steps: [db(['rpc', 'sum_ids', { ids: [4, 8, 15] }, { get: true }])],
  responses: [rest('GET', 'rpc/sum_ids', 27)] });
add(Q, { name: 'xq_rpc_post_with_filters', description: 'rpc POST with arguments, a filter and an order.',
  steps: [db(['rpc', 'orders_between', { since: '2025-12-01', until: '2025-12-31', min_total: 12.5 }], ['gt', 'total', 100], ['order', 'total', { ascending: false }])],
  responses: [rest('POST', 'rpc/orders_between', [{ id: 9, total: 250 }])] });
add(Q, { name: 'xq_rpc_head_count_planned', description: 'rpc with head and a planned count.',
  steps: [db(['rpc', 'open_orders', {}, { head: true, count: 'planned' }])],
  responses: [{ match: { method: 'HEAD', path: '/rest/v1/rpc/open_orders' }, status: 200, headers: { 'Content-Range': '*/1200' } }] });

// ---------------------------------------------------------------------------
// rest_writes: insert, upsert, update, delete
const W = 'rest_writes';
add(W, { name: 'xw_delete_in_list_dotted', description: 'delete() filtered by in() with dotted values.',
  steps: [db(['from', 'sessions'], ['delete'], ['in', 'ip', ['10.0.0.1', '10.0.0.2']])],
  responses: [{ match: { method: 'DELETE', path: '/rest/v1/sessions' }, status: 204 }] });
add(W, { name: 'xw_delete_planned_count_returning', description: 'delete() with a planned count, returning ids.',
  steps: [db(['from', 'tokens'], ['delete', { count: 'planned' }], ['lt', 'expires_at', '2026-01-01T00:00:00Z'], ['select', 'id'])],
  responses: [rest('DELETE', 'tokens', [{ id: 1 }, { id: 2 }], { headers: { 'Content-Range': '*/2' } })] });
add(W, { name: 'xw_delete_other_schema', description: 'delete() in another schema.',
  steps: [db(['schema', 'audit'], ['from', 'events'], ['delete'], ['eq', 'id', 5])],
  responses: [{ match: { method: 'DELETE', path: '/rest/v1/events' }, status: 204 }] });
add(W, { name: 'xw_delete_match_object', description: 'delete() with match() on two columns.',
  steps: [db(['from', 'memberships'], ['delete'], ['match', { org_id: 3, user_id: 'u-7' }])],
  responses: [{ match: { method: 'DELETE', path: '/rest/v1/memberships' }, status: 204 }] });
add(W, { name: 'xw_insert_bulk_missing_keys_select', description: 'insert() of rows with different keys, returning them.',
  steps: [db(['from', 'contacts'], ['insert', [{ name: 'Ann' }, { name: 'Ben', phone: '+44 20 7946 0000' }]], ['select', 'id,name'])],
  responses: [rest('POST', 'contacts', [{ id: 1, name: 'Ann' }, { id: 2, name: 'Ben' }], { status: 201 })] });
add(W, { name: 'xw_upsert_composite_conflict', description: 'upsert() on a composite key, ignoring duplicates.',
  steps: [db(['from', 'slugs'], ['upsert', { org_id: 1, slug: 'home', title: 'Home' }, { onConflict: 'org_id,slug', ignoreDuplicates: true }])],
  responses: [{ match: { method: 'POST', path: '/rest/v1/slugs' }, status: 201 }] });
add(W, { name: 'xw_update_in_list_spaces', description: 'update() filtered by in() with values holding spaces.',
  steps: [db(['from', 'reports'], ['update', { archived: true }], ['in', 'title', ['Q1 report', 'misc']], ['select', 'id'])],
  responses: [rest('PATCH', 'reports', [{ id: 40 }])] });
add(W, { name: 'xw_insert_count_exact_minimal', description: 'insert() with an exact count and no returned rows.',
  steps: [db(['from', 'logs'], ['insert', { level: 'warn', msg: 'disk 91%' }, { count: 'exact' }])],
  responses: [{ match: { method: 'POST', path: '/rest/v1/logs' }, status: 201, headers: { 'Content-Range': '*/1' } }] });

// ---------------------------------------------------------------------------
// rest_errors
const E = 'rest_errors';
add(E, { name: 'xe_select_200_plain_text', description: 'select answered 200 with a text body.',
  steps: [db(['from', 'notes'], ['select', 'id'])],
  responses: [{ match: { method: 'GET', path: '/rest/v1/notes' }, status: 200, headers: { 'Content-Type': 'text/plain' }, bodyText: 'maintenance window' }] });
add(E, { name: 'xe_rpc_200_plain_text', description: 'rpc answered 200 with a bare text body.',
  steps: [db(['rpc', 'server_version'])],
  responses: [{ match: { method: 'POST', path: '/rest/v1/rpc/server_version' }, status: 200, headers: { 'Content-Type': 'text/plain' }, bodyText: 'v12.2.3' }] });
add(E, { name: 'xe_insert_201_html_body', description: 'insert() returning rows answered 201 with an HTML body.',
  steps: [db(['from', 'comments'], ['insert', { body: 'hi' }], ['select'])],
  responses: [{ match: { method: 'POST', path: '/rest/v1/comments' }, status: 201, headers: { 'Content-Type': 'text/html' }, bodyText: '<p>created</p>' }] });
add(E, { name: 'xe_select_400_operator_hint', description: 'PostgREST 400 with details and hint.',
  steps: [db(['from', 'members'], ['select', 'id'], ['filter', 'age', 'gt', 'abc'])],
  responses: [rest('GET', 'members', { code: '22P02', details: null, hint: null, message: 'invalid input syntax for type integer: "abc"' }, { status: 400 })] });
add(E, { name: 'xe_rpc_404_function_missing', description: 'rpc of an unknown function: PGRST202 with a hint.',
  steps: [db(['rpc', 'no_such_fn', { a: 1 }])],
  responses: [rest('POST', 'rpc/no_such_fn', { code: 'PGRST202', details: 'Searched for the function public.no_such_fn with parameter a or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.', hint: 'Perhaps you meant to call the function public.no_such_fn2', message: 'Could not find the function public.no_such_fn(a) in the schema cache' }, { status: 404 })] });
add(E, { name: 'xe_upsert_409_foreign_key', description: 'upsert() rejected with a foreign-key violation.',
  steps: [db(['from', 'orders'], ['upsert', { id: 1, customer_id: 999 }])],
  responses: [rest('POST', 'orders', { code: '23503', details: 'Key (customer_id)=(999) is not present in table "customers".', hint: null, message: 'insert or update on table "orders" violates foreign key constraint "orders_customer_id_fkey"' }, { status: 409 })] });
add(E, { name: 'xe_delete_403_rls', description: 'delete() refused by RLS (42501).',
  steps: [db(['from', 'invoices'], ['delete'], ['eq', 'id', 3])],
  responses: [rest('DELETE', 'invoices', { code: '42501', details: null, hint: null, message: 'permission denied for table invoices' }, { status: 403 })] });

// ---------------------------------------------------------------------------
// auth_flows: auth calls, sign-out, OTP verification, errors
const A = 'auth_flows';
add(A, { name: 'xa_sign_out_others', description: 'signOut({scope: others}) after sign-in.', key: ANON2,
  steps: [signIn(GRACE), call('auth', 'signOut', { scope: 'others' })],
  responses: [signInRule(GRACE, 'gr4ce0r1g1n'), { match: { method: 'POST', path: '/auth/v1/logout' }, status: 204, headers: V }] });
add(A, { name: 'xa_sign_out_default_then_get_session', description: 'signOut() (global by default), then getSession is empty.',
  steps: [signIn(LINUS), call('auth', 'signOut'), call('auth', 'getSession')],
  responses: [signInRule(LINUS, 'l1nusrefresh'), { match: { method: 'POST', path: '/auth/v1/logout' }, status: 204, headers: V }] });
add(A, { name: 'xa_sign_out_local_session_gone', description: 'signOut({scope: local}) answered 404 session_not_found is ignored.',
  steps: [signIn(MARGARET), call('auth', 'signOut', { scope: 'local' })],
  responses: [signInRule(MARGARET, 'm4rg4ret'), { match: { method: 'POST', path: '/auth/v1/logout' }, ...authErr(404, 'session_not_found', 'Session from session_id claim in JWT does not exist') }] });
add(A, { name: 'xa_verify_otp_email_redirect', description: 'verifyOtp for an email code with options.redirectTo.',
  steps: [call('auth', 'verifyOtp', { email: GRACE.email, token: '480916', type: 'email', options: { redirectTo: 'https://extra.example.org/welcome?from=otp' } })],
  responses: [{ match: { method: 'POST', path: '/auth/v1/verify' }, status: 200, headers: V, body: session(GRACE, 'v3r1fy3m41l') }] });
add(A, { name: 'xa_verify_otp_sms_captcha', description: 'verifyOtp for an SMS code with options.captchaToken.',
  steps: [call('auth', 'verifyOtp', { phone: LINUS.phone, token: '112358', type: 'sms', options: { captchaToken: 'hcaptcha-token-42' } })],
  responses: [{ match: { method: 'POST', path: '/auth/v1/verify' }, status: 200, headers: V, body: session(LINUS, 'v3r1fysms') }] });
add(A, { name: 'xa_verify_otp_recovery_hash_redirect', description: 'verifyOtp recovery with token_hash and redirectTo, answered 403 otp_expired.',
  steps: [call('auth', 'verifyOtp', { token_hash: 'a1b2c3d4e5f60718293a4b5c6d7e8f90', type: 'recovery', options: { redirectTo: 'https://extra.example.org/reset' } })],
  responses: [{ match: { method: 'POST', path: '/auth/v1/verify' }, ...authErr(403, 'otp_expired', 'Email link is invalid or has expired') }] });
add(A, { name: 'xa_verify_otp_without_options', description: 'verifyOtp without options: body as given.',
  steps: [call('auth', 'verifyOtp', { email: MARGARET.email, token: '000111', type: 'magiclink' })],
  responses: [{ match: { method: 'POST', path: '/auth/v1/verify' }, status: 200, headers: V, body: session(MARGARET, 'm4g1cl1nk') }] });
add(A, { name: 'xa_sign_up_data_redirect', description: 'signUp with metadata and emailRedirectTo; confirmation pending.',
  steps: [call('auth', 'signUp', { email: 'new.member@example.org', password: 'n3w-m3mb3r-pass', options: { data: { plan: 'pro', seats: 3 }, emailRedirectTo: 'https://extra.example.org/confirm' } })],
  responses: [{ match: { method: 'POST', path: '/auth/v1/signup' }, status: 200, headers: V,
    body: { id: 'e7f8a9b0-c1d2-4e3f-8a4b-5c6d7e8f9a0b', aud: 'authenticated', role: 'authenticated', email: 'new.member@example.org', phone: '',
      confirmation_sent_at: '2025-12-31T23:59:30.000000Z', app_metadata: { provider: 'email', providers: ['email'] },
      user_metadata: { plan: 'pro', seats: 3 }, identities: [], created_at: '2025-12-31T23:59:30.000000Z', updated_at: '2025-12-31T23:59:30.000000Z', is_anonymous: false } }] });
add(A, { name: 'xa_sign_in_otp_phone_whatsapp', description: 'signInWithOtp by phone over WhatsApp, no user creation.',
  steps: [call('auth', 'signInWithOtp', { phone: '+4915112345678', options: { channel: 'whatsapp', shouldCreateUser: false } })],
  responses: [{ match: { method: 'POST', path: '/auth/v1/otp' }, status: 200, headers: V, body: { message_id: 'SMa1b2c3d4' } }] });
add(A, { name: 'xa_update_user_metadata', description: 'updateUser with data only.',
  steps: [signIn(GRACE), call('auth', 'updateUser', { data: { theme: 'dark', locale: 'de-DE' } })],
  responses: [signInRule(GRACE, 'gr4ce0r1g1n'), { match: { method: 'PUT', path: '/auth/v1/user' }, status: 200, headers: V, body: user(GRACE, { user_metadata: { full_name: GRACE.name, theme: 'dark', locale: 'de-DE' } }) }] });
add(A, { name: 'xa_resend_email_change', description: 'resend type email_change.',
  steps: [call('auth', 'resend', { type: 'email_change', email: 'grace.new@example.org' })],
  responses: [{ match: { method: 'POST', path: '/auth/v1/resend' }, status: 200, headers: V, body: {} }] });
add(A, { name: 'xa_err_weak_password_sign_up', description: 'signUp refused: weak password with one reason.',
  steps: [call('auth', 'signUp', { email: 'short@example.org', password: 'abc' })],
  responses: [{ match: { method: 'POST', path: '/auth/v1/signup' }, status: 422, headers: V, body: { code: 'weak_password', message: 'Password should contain at least one character of each: abcdefghijklmnopqrstuvwxyz, ABCDEFGHIJKLMNOPQRSTUVWXYZ, 0123456789.', weak_password: { reasons: ['characters'] } } }] });
add(A, { name: 'xa_err_sms_rate_limited', description: 'signInWithOtp by phone answered 429 over_sms_send_rate_limit.',
  steps: [call('auth', 'signInWithOtp', { phone: '+4915112345678' })],
  responses: [{ match: { method: 'POST', path: '/auth/v1/otp' }, ...authErr(429, 'over_sms_send_rate_limit', 'SMS rate limit exceeded') }] });
add(A, { name: 'xa_err_invalid_credentials_phone', description: 'signInWithPassword by phone: invalid_credentials.',
  steps: [{ target: 'auth', chain: [{ call: 'signInWithPassword', args: [{ phone: '+4915112345678', password: 'wrong' }] }] }],
  responses: [{ match: { method: 'POST', path: '/auth/v1/token' }, ...authErr(400, 'invalid_credentials', 'Invalid login credentials') }] });

// ---------------------------------------------------------------------------
// auth_mfa_admin: MFA and admin calls
const M = 'auth_mfa_admin';
const F_TOTP = '0d1c2b3a-4f5e-4d6c-8b7a-9f8e7d6c5b4a';
const F_PHONE = '6e5d4c3b-2a19-4f08-9e7d-6c5b4a392817';
add(M, { name: 'xm_challenge_totp', description: 'mfa.challenge for a TOTP factor (another factor id).',
  steps: [signIn(GRACE), call('auth.mfa', 'challenge', { factorId: F_TOTP })],
  responses: [signInRule(GRACE, 'gr4ce0r1g1n'), { match: { method: 'POST', path: `/auth/v1/factors/${F_TOTP}/challenge` }, status: 200, headers: V, body: { id: '11112222-3333-4444-8555-666677778888', type: 'totp', expires_at: EXP } }] });
add(M, { name: 'xm_challenge_phone_whatsapp', description: 'mfa.challenge for a phone factor over WhatsApp.',
  steps: [signIn(LINUS), call('auth.mfa', 'challenge', { factorId: F_PHONE, channel: 'whatsapp' })],
  responses: [signInRule(LINUS, 'l1nusrefresh'), { match: { method: 'POST', path: `/auth/v1/factors/${F_PHONE}/challenge` }, status: 200, headers: V, body: { id: '99998888-7777-4666-8555-444433332222', type: 'phone', expires_at: EXP } }] });
add(M, { name: 'xm_challenge_not_found', description: 'mfa.challenge answered 404 mfa_factor_not_found.',
  steps: [signIn(GRACE), call('auth.mfa', 'challenge', { factorId: F_PHONE })],
  responses: [signInRule(GRACE, 'gr4ce0r1g1n'), { match: { method: 'POST', path: `/auth/v1/factors/${F_PHONE}/challenge` }, ...authErr(404, 'mfa_factor_not_found', 'Factor not found') }] });
add(M, { name: 'xm_challenge_and_verify_totp', description: 'mfa.challengeAndVerify for a TOTP factor.',
  steps: [signIn(MARGARET), call('auth.mfa', 'challengeAndVerify', { factorId: F_TOTP, code: '246810' })],
  responses: [signInRule(MARGARET, 'm4rg4ret'),
    { match: { method: 'POST', path: `/auth/v1/factors/${F_TOTP}/challenge` }, status: 200, headers: V, body: { id: 'abcdabcd-1234-4abc-9def-abcdefabcdef', type: 'totp', expires_at: EXP } },
    { match: { method: 'POST', path: `/auth/v1/factors/${F_TOTP}/verify` }, status: 200, headers: V, body: session(MARGARET, 'm4rg4retaal2', 'aal2') }] });
add(M, { name: 'xm_unenroll_phone_factor', description: 'mfa.unenroll of a phone factor.',
  steps: [signIn(LINUS), call('auth.mfa', 'unenroll', { factorId: F_PHONE })],
  responses: [signInRule(LINUS, 'l1nusrefresh'), { match: { method: 'DELETE', path: `/auth/v1/factors/${F_PHONE}` }, status: 200, headers: V, body: { id: F_PHONE } }] });
add(M, { name: 'xm_enroll_phone', description: 'mfa.enroll of a phone factor.',
  steps: [signIn(LINUS), call('auth.mfa', 'enroll', { factorType: 'phone', friendlyName: 'Handy', phone: '+4915112345678' })],
  responses: [signInRule(LINUS, 'l1nusrefresh'), { match: { method: 'POST', path: '/auth/v1/factors' }, status: 200, headers: V, body: { id: F_PHONE, type: 'phone', friendly_name: 'Handy', phone: '4915112345678' } }] });
const SVC = { key: SERVICE2 };
add(M, { name: 'xad_generate_link_magiclink_redirect', description: 'admin.generateLink magiclink with redirectTo.', ...SVC,
  steps: [call('auth.admin', 'generateLink', { type: 'magiclink', email: GRACE.email, options: { redirectTo: 'https://extra.example.org/after-login' } })],
  responses: [{ match: { method: 'POST', path: '/auth/v1/admin/generate_link' }, status: 200, headers: V,
    body: { ...user(GRACE), action_link: 'https://extra-ref.supabase.co/auth/v1/verify?token=ml1&type=magiclink&redirect_to=https://extra.example.org/after-login', email_otp: '314159', hashed_token: 'ml1', redirect_to: 'https://extra.example.org/after-login', verification_type: 'magiclink' } }] });
add(M, { name: 'xad_generate_link_recovery_redirect', description: 'admin.generateLink recovery with redirectTo.', ...SVC,
  steps: [call('auth.admin', 'generateLink', { type: 'recovery', email: LINUS.email, options: { redirectTo: 'https://extra.example.org/reset' } })],
  responses: [{ match: { method: 'POST', path: '/auth/v1/admin/generate_link' }, status: 200, headers: V,
    body: { ...user(LINUS), action_link: 'https://extra-ref.supabase.co/auth/v1/verify?token=rc2&type=recovery&redirect_to=https://extra.example.org/reset', email_otp: '271828', hashed_token: 'rc2', redirect_to: 'https://extra.example.org/reset', verification_type: 'recovery' } }] });
add(M, { name: 'xad_generate_link_invite_data_redirect', description: 'admin.generateLink invite with data and redirectTo.', ...SVC,
  steps: [call('auth.admin', 'generateLink', { type: 'invite', email: 'invitee@example.org', options: { data: { team: 'ops' }, redirectTo: 'https://extra.example.org/join' } })],
  responses: [{ match: { method: 'POST', path: '/auth/v1/admin/generate_link' }, status: 200, headers: V,
    body: { id: 'aa11bb22-cc33-4d44-8e55-ff6677889900', aud: 'authenticated', role: 'authenticated', email: 'invitee@example.org', phone: '', invited_at: '2025-12-31T23:59:00.000000Z',
      app_metadata: { provider: 'email', providers: ['email'] }, user_metadata: { team: 'ops' }, identities: [], created_at: '2025-12-31T23:59:00.000000Z', updated_at: '2025-12-31T23:59:00.000000Z', is_anonymous: false,
      action_link: 'https://extra-ref.supabase.co/auth/v1/verify?token=iv3&type=invite&redirect_to=https://extra.example.org/join', email_otp: '161803', hashed_token: 'iv3', redirect_to: 'https://extra.example.org/join', verification_type: 'invite' } }] });
add(M, { name: 'xad_generate_link_email_change_new_redirect', description: 'admin.generateLink email_change_new with newEmail and redirectTo.', ...SVC,
  steps: [call('auth.admin', 'generateLink', { type: 'email_change_new', email: MARGARET.email, newEmail: 'maggie@example.net', options: { redirectTo: 'https://extra.example.org/email' } })],
  responses: [{ match: { method: 'POST', path: '/auth/v1/admin/generate_link' }, status: 200, headers: V,
    body: { ...user(MARGARET, { new_email: 'maggie@example.net' }), action_link: 'https://extra-ref.supabase.co/auth/v1/verify?token=ec4&type=email_change&redirect_to=https://extra.example.org/email', email_otp: '141421', hashed_token: 'ec4', redirect_to: 'https://extra.example.org/email', verification_type: 'email_change_new' } }] });
add(M, { name: 'xad_delete_user_soft', description: 'admin.deleteUser soft.', ...SVC,
  steps: [call('auth.admin', 'deleteUser', LINUS.id, true)],
  responses: [{ match: { method: 'GET', path: `/auth/v1/admin/users/${LINUS.id}` }, status: 200, headers: V, body: user(LINUS) },
    { match: { method: 'DELETE', path: `/auth/v1/admin/users/${LINUS.id}` }, status: 200, headers: V, body: {} }] });
add(M, { name: 'xad_delete_user_hard', description: 'admin.deleteUser without soft delete.', ...SVC,
  steps: [call('auth.admin', 'deleteUser', MARGARET.id)],
  responses: [{ match: { method: 'GET', path: `/auth/v1/admin/users/${MARGARET.id}` }, status: 200, headers: V, body: user(MARGARET) },
    { match: { method: 'DELETE', path: `/auth/v1/admin/users/${MARGARET.id}` }, status: 200, headers: V, body: {} }] });
add(M, { name: 'xad_delete_user_not_found', description: 'admin.deleteUser of a missing user (one rule answers every method with 404).', ...SVC,
  steps: [call('auth.admin', 'deleteUser', 'deadbeef-0000-4000-8000-00000000dead')],
  responses: [{ match: { path: '/auth/v1/admin/users/deadbeef-0000-4000-8000-00000000dead' }, ...authErr(404, 'user_not_found', 'User not found') }] });
const usersPage = (...us) => ({ aud: 'authenticated', users: us.map((u) => user(u)) });
add(M, { name: 'xad_list_users_page_only', description: 'admin.listUsers({page}) leaves per_page empty.', ...SVC,
  steps: [call('auth.admin', 'listUsers', { page: 2 })],
  responses: [{ match: { method: 'GET', path: '/auth/v1/admin/users' }, status: 200,
    headers: { ...V, 'X-Total-Count': '51', Link: '</admin/users?page=2&per_page=50>; rel="last"' }, body: usersPage(GRACE) }] });
add(M, { name: 'xad_list_users_per_page_only', description: 'admin.listUsers({perPage}) leaves page empty.', ...SVC,
  steps: [call('auth.admin', 'listUsers', { perPage: 2 })],
  responses: [{ match: { method: 'GET', path: '/auth/v1/admin/users' }, status: 200,
    headers: { ...V, 'X-Total-Count': '3', Link: '</admin/users?page=2&per_page=2>; rel="next", </admin/users?page=2&per_page=2>; rel="last"' }, body: usersPage(GRACE, LINUS) }] });
add(M, { name: 'xad_list_users_empty_params_total_only', description: 'admin.listUsers({}) with X-Total-Count and no Link header.', ...SVC,
  steps: [call('auth.admin', 'listUsers', {})],
  responses: [{ match: { method: 'GET', path: '/auth/v1/admin/users' }, status: 200, headers: { ...V, 'X-Total-Count': '3' }, body: usersPage(GRACE, LINUS, MARGARET) }] });
add(M, { name: 'xad_list_users_two_digit_pages', description: 'admin.listUsers on page 11 of 15: page numbers of two digits.', ...SVC,
  steps: [call('auth.admin', 'listUsers', { page: 11, perPage: 10 })],
  responses: [{ match: { method: 'GET', path: '/auth/v1/admin/users' }, status: 200,
    headers: { ...V, 'X-Total-Count': '150', Link: '</admin/users?page=12&per_page=10>; rel="next", </admin/users?page=15&per_page=10>; rel="last"' }, body: usersPage(MARGARET) }] });
add(M, { name: 'xad_list_users_single_digit_pages', description: 'admin.listUsers on page 1 of 3.', ...SVC,
  steps: [call('auth.admin', 'listUsers', { page: 1, perPage: 1 })],
  responses: [{ match: { method: 'GET', path: '/auth/v1/admin/users' }, status: 200,
    headers: { ...V, 'X-Total-Count': '3', Link: '</admin/users?page=2&per_page=1>; rel="next", </admin/users?page=3&per_page=1>; rel="last"' }, body: usersPage(GRACE) }] });
add(M, { name: 'xad_sign_out_user_local', description: 'admin.signOut(jwt, local).', ...SVC,
  steps: [call('auth.admin', 'signOut', accessToken(GRACE), 'local')],
  responses: [{ match: { method: 'POST', path: '/auth/v1/logout' }, status: 204, headers: V }] });
add(M, { name: 'xad_mfa_delete_phone_factor', description: 'admin.mfa.deleteFactor of a phone factor.', ...SVC,
  steps: [call('auth.admin.mfa', 'deleteFactor', { userId: LINUS.id, id: F_PHONE })],
  responses: [{ match: { method: 'DELETE', path: `/auth/v1/admin/users/${LINUS.id}/factors/${F_PHONE}` }, status: 200, headers: V, body: { id: F_PHONE } }] });
add(M, { name: 'xad_create_user_app_metadata', description: 'admin.createUser with app_metadata, confirmed email.', ...SVC,
  steps: [call('auth.admin', 'createUser', { email: 'ops@example.org', password: '0ps-p4ssw0rd', email_confirm: true, app_metadata: { roles: ['ops'] }, user_metadata: { full_name: 'Ops Bot' } })],
  responses: [{ match: { method: 'POST', path: '/auth/v1/admin/users' }, status: 200, headers: V,
    body: { id: '0f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f', aud: 'authenticated', role: 'authenticated', email: 'ops@example.org', email_confirmed_at: '2025-12-31T23:59:00.000000Z', phone: '',
      app_metadata: { provider: 'email', providers: ['email'], roles: ['ops'] }, user_metadata: { full_name: 'Ops Bot' }, identities: [], created_at: '2025-12-31T23:59:00.000000Z', updated_at: '2025-12-31T23:59:00.000000Z', is_anonymous: false } }] });
add(M, { name: 'xad_update_user_ban', description: 'admin.updateUserById with ban_duration.', ...SVC,
  steps: [call('auth.admin', 'updateUserById', LINUS.id, { ban_duration: '24h' })],
  responses: [{ match: { method: 'PUT', path: `/auth/v1/admin/users/${LINUS.id}` }, status: 200, headers: V, body: user(LINUS, { banned_until: '2026-01-02T00:00:00.000000Z' }) }] });
add(M, { name: 'xad_err_list_users_forbidden', description: 'admin.listUsers with an anon key: 403 not_admin.',
  steps: [call('auth.admin', 'listUsers', { page: 1, perPage: 20 })],
  responses: [{ match: { method: 'GET', path: '/auth/v1/admin/users' }, ...authErr(403, 'not_admin', 'User not allowed') }] });

// ---------------------------------------------------------------------------
// sequences
const S = 'sequences';
add(S, { name: 'xs_sign_in_query_sign_out_query', description: 'sign in, query as the user, sign out, query as anon.', key: ANON2,
  steps: [signIn(GRACE), db(['from', 'notes'], ['select', 'id']), call('auth', 'signOut'), db(['from', 'notes'], ['select', 'id'])],
  responses: [signInRule(GRACE, 'gr4ce0r1g1n'), { match: { method: 'POST', path: '/auth/v1/logout' }, status: 204, headers: V },
    { match: { method: 'GET', path: '/rest/v1/notes' }, status: 200, body: [{ id: 1 }], once: true }, rest('GET', 'notes', [])] });
add(S, { name: 'xs_sign_in_delete_with_in', description: 'sign in, then delete() with in() as the user.',
  steps: [signIn(LINUS), db(['from', 'drafts'], ['delete'], ['in', 'title', ['old draft', 'v1.0']], ['select', 'id'])],
  responses: [signInRule(LINUS, 'l1nusrefresh'), rest('DELETE', 'drafts', [{ id: 3 }, { id: 4 }])] });
add(S, { name: 'xs_mfa_challenge_verify_then_query', description: 'sign in, challenge, verify (aal2), query with the new token.',
  steps: [signIn(GRACE), call('auth.mfa', 'challenge', { factorId: F_TOTP }), call('auth.mfa', 'verify', { factorId: F_TOTP, challengeId: '11112222-3333-4444-8555-666677778888', code: '135790' }),
    db(['from', 'secrets'], ['select', 'id'])],
  responses: [signInRule(GRACE, 'gr4ce0r1g1n'),
    { match: { method: 'POST', path: `/auth/v1/factors/${F_TOTP}/challenge` }, status: 200, headers: V, body: { id: '11112222-3333-4444-8555-666677778888', type: 'totp', expires_at: EXP } },
    { match: { method: 'POST', path: `/auth/v1/factors/${F_TOTP}/verify` }, status: 200, headers: V, body: session(GRACE, 'gr4ceaal2', 'aal2') },
    rest('GET', 'secrets', [{ id: 1 }])] });
add(S, { name: 'xs_admin_list_then_delete', description: 'admin lists users with no paging, then deletes one.', ...SVC,
  steps: [call('auth.admin', 'listUsers'), call('auth.admin', 'deleteUser', GRACE.id)],
  responses: [{ match: { method: 'GET', path: '/auth/v1/admin/users' }, status: 200, headers: { ...V, 'X-Total-Count': '2' }, body: usersPage(GRACE, LINUS) },
    { match: { method: 'GET', path: `/auth/v1/admin/users/${GRACE.id}` }, status: 200, headers: V, body: user(GRACE) },
    { match: { method: 'DELETE', path: `/auth/v1/admin/users/${GRACE.id}` }, status: 200, headers: V, body: {} }] });
add(S, { name: 'xs_refresh_then_rpc', description: 'sign in, refresh, rpc with the refreshed token.',
  steps: [signIn(MARGARET), call('auth', 'refreshSession'), db(['rpc', 'whoami'])],
  responses: [signInRule(MARGARET, 'm4rg4ret'),
    { match: { method: 'POST', path: '/auth/v1/token', query: { grant_type: 'refresh_token' } }, status: 200, headers: V, body: session(MARGARET, 'm4rg4ret2') },
    rest('POST', 'rpc/whoami', MARGARET.id)] });
add(S, { name: 'xs_verify_otp_redirect_then_update', description: 'verifyOtp with redirectTo, then an update as the user.',
  steps: [call('auth', 'verifyOtp', { email: LINUS.email, token: '777000', type: 'email', options: { redirectTo: 'https://extra.example.org/in' } }),
    db(['from', 'profiles'], ['update', { last_seen: '2026-01-01T00:00:00Z' }], ['eq', 'id', LINUS.id])],
  responses: [{ match: { method: 'POST', path: '/auth/v1/verify' }, status: 200, headers: V, body: session(LINUS, 'l1nusv3r1fy') },
    { match: { method: 'PATCH', path: '/rest/v1/profiles' }, status: 204 }] });

// The layout of the public case files: one line per call and per response rule.
function formatCases(cases) {
  const c = (v) => JSON.stringify(v);
  const out = cases.map((k) => {
    const lines = [`    "name": ${c(k.name)}`, `    "description": ${c(k.description)}`];
    if (k.key) lines.push(`    "key": ${c(k.key)}`);
    if (k.clientOptions) lines.push(`    "clientOptions": ${c(k.clientOptions)}`);
    const steps = k.steps.map((s) => `      {\n        "target": ${c(s.target)},\n        "chain": [\n${s.chain.map((x) => '          ' + c(x)).join(',\n')}\n        ]\n      }`);
    lines.push(`    "steps": [\n${steps.join(',\n')}\n    ]`);
    lines.push(`    "responses": [\n${k.responses.map((r) => '      ' + c(r)).join(',\n')}\n    ]`);
    return `  {\n${lines.join(',\n')}\n  }`;
  });
  return `[\n${out.join(',\n')}\n]\n`;
}

// ---------------------------------------------------------------------------
// more shapes
add(Q, { name: 'xq_filter_eq_array_value', description: 'eq() given an array (an array column compared whole).',
  steps: [db(['from', 'boards'], ['select', 'id'], ['eq', 'tags', ['a', 'b c']])],
  responses: [rest('GET', 'boards', [])] });
add(Q, { name: 'xq_rpc_get_scalar_arguments', description: 'rpc with get: null, boolean, spaced string and decimal arguments.',
  steps: [db(['rpc', 'lookup', { a: null, b: true, c: 'x y', d: 1.5 }, { get: true }])],
  responses: [rest('GET', 'rpc/lookup', [])] });
add(Q, { name: 'xq_order_nulls_first_only', description: 'order() with nullsFirst and the default direction.',
  steps: [db(['from', 'scores'], ['select', 'id,score'], ['order', 'score', { nullsFirst: true }], ['limit', 3])],
  responses: [rest('GET', 'scores', [{ id: 4, score: null }])] });
add(Q, { name: 'xq_select_count_exact_range', description: 'select with an exact count and a range: count from Content-Range.',
  steps: [db(['from', 'products'], ['select', 'id', { count: 'exact' }], ['range', 10, 19])],
  responses: [rest('GET', 'products', [{ id: 11 }], { status: 206, headers: { 'Content-Range': '10-19/57' } })] });
add(Q, { name: 'xq_text_search_plain_no_config', description: 'textSearch of type plain without a config.',
  steps: [db(['from', 'docs'], ['select', 'id'], ['textSearch', 'body', 'open source', { type: 'plain' }])],
  responses: [rest('GET', 'docs', [{ id: 2 }])] });
add(W, { name: 'xw_insert_select_single', description: 'insert() returning the row as an object with single().',
  steps: [db(['from', 'projects'], ['insert', { name: 'Apollo', budget: 25.5 }], ['select', 'id,name'], ['single'])],
  responses: [rest('POST', 'projects', { id: 17, name: 'Apollo' }, { status: 201 })] });
add(E, { name: 'xe_select_404_json_array', description: 'a 404 answered with a JSON array is reported as an empty success.',
  steps: [db(['from', 'ghosts'], ['select', 'id'])],
  responses: [rest('GET', 'ghosts', [], { status: 404 })] });
add(E, { name: 'xe_head_count_520_retried', description: 'HEAD count answered 520 once (Retry-After 0) is retried with X-Retry-Count.',
  steps: [db(['from', 'metrics'], ['select', '*', { count: 'exact', head: true }])],
  responses: [{ match: { method: 'HEAD', path: '/rest/v1/metrics' }, status: 520, headers: { 'Retry-After': '0' }, once: true },
    { match: { method: 'HEAD', path: '/rest/v1/metrics' }, status: 200, headers: { 'Content-Range': '*/8' } }] });
add(S, { name: 'xs_sign_out_500_keeps_session', description: 'signOut answered 500: the error is returned and the session kept for the next query.',
  steps: [signIn(GRACE), call('auth', 'signOut'), db(['from', 'notes'], ['select', 'id'])],
  responses: [signInRule(GRACE, 'gr4ce0r1g1n'), { match: { method: 'POST', path: '/auth/v1/logout' }, ...authErr(500, 'unexpected_failure', 'Unexpected failure') },
    rest('GET', 'notes', [{ id: 1 }])] });
add(A, { name: 'xa_reset_password_captcha_redirect', description: 'resetPasswordForEmail with redirectTo and captchaToken.',
  steps: [call('auth', 'resetPasswordForEmail', 'grace@example.org', { redirectTo: 'https://extra.example.org/new-password', captchaToken: 'turnstile-xyz' })],
  responses: [{ match: { method: 'POST', path: '/auth/v1/recover' }, status: 200, headers: V, body: {} }] });
add(M, { name: 'xm_verify_then_assurance_level', description: 'mfa.verify, then getAuthenticatorAssuranceLevel reads aal2 from the new token.',
  steps: [signIn(GRACE), call('auth.mfa', 'verify', { factorId: F_TOTP, challengeId: '11112222-3333-4444-8555-666677778888', code: '999000' }), call('auth.mfa', 'getAuthenticatorAssuranceLevel')],
  responses: [signInRule(GRACE, 'gr4ce0r1g1n'),
    { match: { method: 'POST', path: `/auth/v1/factors/${F_TOTP}/verify` }, status: 200, headers: V, body: session(GRACE, 'gr4ceaal2', 'aal2') }] });
add(M, { name: 'xad_get_user_not_found', description: 'admin.getUserById answered 404 user_not_found.', ...SVC,
  steps: [call('auth.admin', 'getUserById', 'deadbeef-0000-4000-8000-00000000dead')],
  responses: [{ match: { method: 'GET', path: '/auth/v1/admin/users/deadbeef-0000-4000-8000-00000000dead' }, ...authErr(404, 'user_not_found', 'User not found') }] });
add(M, { name: 'xad_invite_without_options', description: 'admin.inviteUserByEmail without options.', ...SVC,
  steps: [call('auth.admin', 'inviteUserByEmail', 'friend@example.org')],
  responses: [{ match: { method: 'POST', path: '/auth/v1/invite' }, status: 200, headers: V,
    body: { id: 'bb22cc33-dd44-4e55-8f66-778899aabbcc', aud: 'authenticated', role: 'authenticated', email: 'friend@example.org', phone: '', invited_at: '2025-12-31T23:59:00.000000Z',
      app_metadata: { provider: 'email', providers: ['email'] }, user_metadata: {}, identities: [], created_at: '2025-12-31T23:59:00.000000Z', updated_at: '2025-12-31T23:59:00.000000Z', is_anonymous: false } }] });

add(Q, { name: 'xq_filter_not_operator_in_array', description: 'not() with the in operator given an array.',
  steps: [db(['from', 'tasks'], ['select', 'id'], ['not', 'id', 'in', [4, 5, 'x y']])],
  responses: [rest('GET', 'tasks', [{ id: 1 }])] });
add(Q, { name: 'xq_filter_raw_operators_arrays', description: 'filter() with cs and with not.ov, given arrays.',
  steps: [db(['from', 'wines'], ['select', 'id'], ['filter', 'tags', 'cs', ['dry', 'pinot noir']], ['filter', 'grapes', 'not.ov', ['merlot', 'a,b']])],
  responses: [rest('GET', 'wines', [{ id: 3 }])] });
add(Q, { name: 'xq_filter_match_with_array_member', description: 'match() with a scalar and an array member.',
  steps: [db(['from', 'boards'], ['select', 'id'], ['match', { owner: 'grace', labels: ['urgent', 'q1 plan'] }])],
  responses: [rest('GET', 'boards', [{ id: 8 }])] });

add(W, { name: 'xw_insert_empty_array', description: 'insert() of an empty array.',
  steps: [db(['from', 'contacts'], ['insert', []])],
  responses: [{ match: { method: 'POST', path: '/rest/v1/contacts' }, status: 201 }] });
add(W, { name: 'xw_upsert_bulk_ignore_count_no_default_null', description: 'bulk upsert: onConflict, ignoreDuplicates, defaultToNull false and an exact count.',
  steps: [db(['from', 'prices'], ['upsert', [{ sku: 'A', amount: 1 }, { sku: 'B' }], { onConflict: 'sku', ignoreDuplicates: true, defaultToNull: false, count: 'exact' }])],
  responses: [{ match: { method: 'POST', path: '/rest/v1/prices' }, status: 201, headers: { 'Content-Range': '*/2' } }] });
add(W, { name: 'xw_delete_select_single', description: 'delete() returning the deleted row with single().',
  steps: [db(['from', 'invites'], ['delete'], ['eq', 'code', 'X9-Q'], ['select', 'id,code'], ['single'])],
  responses: [rest('DELETE', 'invites', { id: 5, code: 'X9-Q' })] });
add(W, { name: 'xw_update_max_affected_rollback', description: 'update() with maxAffected and rollback.',
  steps: [db(['from', 'accounts'], ['update', { frozen: true }], ['eq', 'org', 7], ['maxAffected', 10], ['rollback'])],
  responses: [{ match: { method: 'PATCH', path: '/rest/v1/accounts' }, status: 204 }] });
add(Q, { name: 'xq_rpc_get_count_with_filter', description: 'rpc with get and an exact count, filtered.',
  steps: [db(['rpc', 'active_users', { since: '2025-12-01' }, { get: true, count: 'exact' }], ['eq', 'country', 'DE'])],
  responses: [rest('GET', 'rpc/active_users', [{ id: 1 }], { headers: { 'Content-Range': '0-0/1' } })] });
add(Q, { name: 'xq_schema_head_count_planned', description: 'schema() then a HEAD planned count.',
  steps: [db(['schema', 'analytics'], ['from', 'hits'], ['select', '*', { count: 'planned', head: true }], ['gte', 'at', '2025-12-01'])],
  responses: [{ match: { method: 'HEAD', path: '/rest/v1/hits' }, status: 200, headers: { 'Content-Range': '*/123456' } }] });
add(Q, { name: 'xq_explain_analyze_verbose_text', description: 'explain() with analyze and verbose in text format.',
  steps: [db(['from', 'orders'], ['select', 'id'], ['eq', 'id', 1], ['explain', { analyze: true, verbose: true }])],
  responses: [{ match: { method: 'GET', path: '/rest/v1/orders' }, status: 200, headers: { 'Content-Type': 'application/vnd.pgrst.plan+text; charset=utf-8' }, bodyText: 'Index Scan using orders_pkey on public.orders  (cost=0.15..8.17 rows=1 width=4)' }] });
add(Q, { name: 'xq_geojson_with_filter', description: 'geojson() with a filter.',
  steps: [db(['from', 'places'], ['select', 'id,geom'], ['eq', 'kind', 'cafe'], ['geojson'])],
  responses: [rest('GET', 'places', { type: 'FeatureCollection', features: [] })] });
add(A, { name: 'xa_sign_up_phone_whatsapp_data', description: 'signUp with a phone, WhatsApp channel and metadata.',
  steps: [call('auth', 'signUp', { phone: '+4915112345678', password: 'ph0ne-pass-2026', options: { channel: 'whatsapp', data: { lang: 'de' } } })],
  responses: [{ match: { method: 'POST', path: '/auth/v1/signup' }, status: 200, headers: V,
    body: { id: LINUS.id, aud: 'authenticated', role: 'authenticated', email: '', phone: '4915112345678', confirmation_sent_at: '2025-12-31T23:59:30.000000Z',
      app_metadata: { provider: 'phone', providers: ['phone'] }, user_metadata: { lang: 'de' }, identities: [], created_at: '2025-12-31T23:59:30.000000Z', updated_at: '2025-12-31T23:59:30.000000Z', is_anonymous: false } }] });
add(A, { name: 'xa_sign_in_otp_email_all_options', description: 'signInWithOtp by email with emailRedirectTo, data, captchaToken and no user creation.',
  steps: [call('auth', 'signInWithOtp', { email: 'grace@example.org', options: { emailRedirectTo: 'https://extra.example.org/magic', data: { via: 'otp' }, captchaToken: 'cap-777', shouldCreateUser: false } })],
  responses: [{ match: { method: 'POST', path: '/auth/v1/otp' }, status: 200, headers: V, body: {} }] });
add(A, { name: 'xa_resend_sms_captcha', description: 'resend type sms with a captcha token.',
  steps: [call('auth', 'resend', { type: 'sms', phone: '+4915112345678', options: { captchaToken: 'cap-sms-1' } })],
  responses: [{ match: { method: 'POST', path: '/auth/v1/resend' }, status: 200, headers: V, body: { message_id: 'SMxyz' } }] });
add(A, { name: 'xa_update_user_phone_nonce', description: 'updateUser with a phone number and a reauthentication nonce.',
  steps: [signIn(LINUS), call('auth', 'updateUser', { phone: '+4915199999999', nonce: '424242' })],
  responses: [signInRule(LINUS, 'l1nusrefresh'), { match: { method: 'PUT', path: '/auth/v1/user' }, status: 200, headers: V, body: user(LINUS, { new_phone: '4915199999999' }) }] });
add(A, { name: 'xa_err_refresh_explicit_not_found', description: 'refreshSession with an explicit unknown refresh token: 400 refresh_token_not_found.',
  steps: [call('auth', 'refreshSession', { refresh_token: 'n0-such-t0ken' })],
  responses: [{ match: { method: 'POST', path: '/auth/v1/token', query: { grant_type: 'refresh_token' } }, ...authErr(400, 'refresh_token_not_found', 'Invalid Refresh Token: Refresh Token Not Found') }] });

add(A, { name: 'xa_get_session_never_signed_in', description: 'getSession on a fresh client: no session, no request.', key: ANON2,
  steps: [call('auth', 'getSession'), db(['from', 'news'], ['select', 'id'], ['limit', 1])],
  responses: [rest('GET', 'news', [{ id: 100 }])] });

// ---------------------------------------------------------------------------
// auth_pkce: PKCE flows (flowType 'pkce'). The code verifier is random, so
// the replay checks that each code_challenge is the S256 of the
// code_verifier sent later instead of comparing the values.
const P = 'auth_pkce';
const PKCE = { auth: { flowType: 'pkce' } };
const pkceRule = (s) => ({ match: { method: 'POST', path: '/auth/v1/token', query: { grant_type: 'pkce' } }, status: 200, headers: V, body: s });
const exchange = (code) => call('auth', 'exchangeCodeForSession', code);
const CODE1 = '0b9c8d7e-6f5a-4b3c-9d2e-1f0a9b8c7d6e';
const CODE2 = '7a6b5c4d-3e2f-4109-8a7b-6c5d4e3f2a1b';
add(P, { name: 'xp_oauth_exchange_then_query', description: 'signInWithOAuth in the PKCE flow carries the challenge; exchangeCodeForSession sends its verifier; the query runs as the user.',
  clientOptions: PKCE,
  steps: [call('auth', 'signInWithOAuth', { provider: 'github', options: { redirectTo: 'https://extra.example.org/callback', scopes: 'read:user', skipBrowserRedirect: true } }),
    exchange(CODE1), db(['from', 'notes'], ['select', 'id'])],
  responses: [pkceRule(session(GRACE, 'gr4cepkce01')), rest('GET', 'notes', [{ id: 7 }])] });
add(P, { name: 'xp_magic_link_exchange', description: 'signInWithOtp by email in the PKCE flow, then the magic link code is exchanged.',
  clientOptions: PKCE,
  steps: [call('auth', 'signInWithOtp', { email: LINUS.email, options: { emailRedirectTo: 'https://extra.example.org/magic' } }), exchange(CODE2)],
  responses: [{ match: { method: 'POST', path: '/auth/v1/otp' }, status: 200, headers: V, body: {} }, pkceRule(session(LINUS, 'l1nuspkce01'))] });
add(P, { name: 'xp_reset_password_exchange_recovery', description: 'resetPasswordForEmail in the PKCE flow; the exchange reports redirectType recovery; then a new password.',
  clientOptions: PKCE,
  steps: [call('auth', 'resetPasswordForEmail', MARGARET.email, { redirectTo: 'https://extra.example.org/new-password' }), exchange(CODE1),
    call('auth', 'updateUser', { password: 'n3w-and-l0nger-2026' })],
  responses: [{ match: { method: 'POST', path: '/auth/v1/recover' }, status: 200, headers: V, body: {} }, pkceRule(session(MARGARET, 'm4rgpkce01')),
    { match: { method: 'PUT', path: '/auth/v1/user' }, status: 200, headers: V, body: user(MARGARET) }] });
add(P, { name: 'xp_sign_up_pending_then_exchange', description: 'signUp by email in the PKCE flow (confirmation pending), then the confirmation code is exchanged.',
  clientOptions: PKCE,
  steps: [call('auth', 'signUp', { email: 'ada.pkce@example.org', password: 'c0rrect-h0rse-2026', options: { emailRedirectTo: 'https://extra.example.org/welcome', data: { plan: 'free' } } }),
    exchange(CODE2)],
  responses: [{ match: { method: 'POST', path: '/auth/v1/signup' }, status: 200, headers: V,
    body: { id: '5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a', aud: 'authenticated', role: 'authenticated', email: 'ada.pkce@example.org', phone: '', confirmation_sent_at: '2025-12-31T23:59:00.000000Z',
      app_metadata: { provider: 'email', providers: ['email'] }, user_metadata: { plan: 'free' }, identities: [], created_at: '2025-12-31T23:59:00.000000Z', updated_at: '2025-12-31T23:59:00.000000Z', is_anonymous: false } },
    pkceRule(session(GRACE, 'gr4cepkce02'))] });
add(P, { name: 'xp_exchange_without_flow', description: 'exchangeCodeForSession with no flow started: verifier missing, nothing sent.',
  clientOptions: PKCE, steps: [exchange(CODE1)], responses: [pkceRule(session(GRACE, 'gr4cepkce03'))] });
add(P, { name: 'xp_exchange_twice', description: 'the verifier is used once: a second exchange finds none and sends nothing.',
  clientOptions: PKCE,
  steps: [call('auth', 'signInWithOAuth', { provider: 'google', options: { skipBrowserRedirect: true } }), exchange(CODE1), exchange(CODE1)],
  responses: [pkceRule(session(LINUS, 'l1nuspkce02'))] });
add(P, { name: 'xp_exchange_refused_then_missing', description: 'an exchange refused with 404 flow_state_not_found drops the verifier; the next exchange sends nothing.',
  clientOptions: PKCE,
  steps: [call('auth', 'signInWithOAuth', { provider: 'gitlab', options: { redirectTo: 'https://extra.example.org/cb', skipBrowserRedirect: true } }), exchange(CODE2), exchange(CODE2)],
  responses: [{ match: { method: 'POST', path: '/auth/v1/token', query: { grant_type: 'pkce' } }, ...authErr(404, 'flow_state_not_found', 'invalid flow state, no valid flow state found') }] });
add(P, { name: 'xp_sso_domain_exchange', description: 'signInWithSSO by domain in the PKCE flow sends the challenge in the body; the code is exchanged.',
  clientOptions: PKCE,
  steps: [call('auth', 'signInWithSSO', { domain: 'extra.example.org', options: { redirectTo: 'https://extra.example.org/sso-done' } }), exchange(CODE1)],
  responses: [{ match: { method: 'POST', path: '/auth/v1/sso' }, status: 200, headers: V, body: { url: 'https://idp.example.org/saml/sso?SAMLRequest=fZBNT4NAEIb%2FymbvwAJtbTeFBGuMJFVJQQ9eDCyDbLLs' } },
    pkceRule(session(MARGARET, 'm4rgpkce02'))] });
add(P, { name: 'xp_resend_signup_challenge', description: 'resend of a signup email in the PKCE flow starts a flow of its own.',
  clientOptions: PKCE,
  steps: [call('auth', 'resend', { type: 'signup', email: 'ada.pkce@example.org', options: { emailRedirectTo: 'https://extra.example.org/welcome' } }), exchange(CODE2)],
  responses: [{ match: { method: 'POST', path: '/auth/v1/resend' }, status: 200, headers: V, body: {} }, pkceRule(session(GRACE, 'gr4cepkce04'))] });
add(P, { name: 'xp_update_email_challenge', description: 'updateUser changing the email in the PKCE flow sends a challenge; changing the password does not.',
  clientOptions: PKCE,
  steps: [signIn(GRACE), call('auth', 'updateUser', { email: 'grace.h@example.org' }, { emailRedirectTo: 'https://extra.example.org/email-changed' }),
    call('auth', 'updateUser', { password: 'an0ther-l0ng-one' })],
  responses: [signInRule(GRACE, 'gr4ce0r1g1n'), { match: { method: 'PUT', path: '/auth/v1/user' }, status: 200, headers: V, body: user(GRACE, { new_email: 'grace.h@example.org' }) }] });
add(P, { name: 'xp_link_identity_exchange', description: 'linkIdentity in the PKCE flow: GET identities/authorize with the challenge, then the code is exchanged.',
  clientOptions: PKCE,
  steps: [signIn(LINUS), call('auth', 'linkIdentity', { provider: 'google', options: { redirectTo: 'https://extra.example.org/linked', queryParams: { prompt: 'consent' }, skipBrowserRedirect: true } }),
    exchange(CODE1)],
  responses: [signInRule(LINUS, 'l1nusrefresh'),
    { match: { method: 'GET', path: '/auth/v1/user/identities/authorize' }, status: 200, headers: V, body: { url: 'https://accounts.google.com/o/oauth2/v2/auth?client_id=extra&state=abc' } },
    pkceRule(session(LINUS, 'l1nuspkce03'))] });
add(P, { name: 'xp_otp_phone_no_flow', description: 'signInWithOtp by phone in the PKCE flow starts no flow: no challenge, and an exchange finds no verifier.',
  clientOptions: PKCE,
  steps: [call('auth', 'signInWithOtp', { phone: '+4915112345678' }), exchange(CODE2)],
  responses: [{ match: { method: 'POST', path: '/auth/v1/otp' }, status: 200, headers: V, body: { message_id: 'SMpkce' } }, pkceRule(session(LINUS, 'l1nuspkce04'))] });

// ---------------------------------------------------------------------------
// auth_identity: ID tokens, SSO, identities (implicit flow)
const I = 'auth_identity';
const ID_TOKEN = makeJwt({ iss: 'https://accounts.google.com', aud: 'extra-client.apps.googleusercontent.com', sub: '10987654321', email: GRACE.email, nonce: 'hashed-nonce', exp: EXP, iat: NOW });
const tokenRule = (grant, body) => ({ match: { method: 'POST', path: '/auth/v1/token', query: { grant_type: grant } }, status: 200, headers: V, body });
const GOOGLE_ID = { identity_id: 'e1f2a3b4-c5d6-4e7f-8091-a2b3c4d5e6f7', id: '10987654321', user_id: GRACE.id,
  identity_data: { email: GRACE.email, email_verified: true, sub: '10987654321', iss: 'https://accounts.google.com' }, provider: 'google',
  last_sign_in_at: '2025-12-31T10:00:00.000000Z', created_at: '2025-12-31T10:00:00.000000Z', updated_at: '2025-12-31T10:00:00.000000Z', email: GRACE.email };
add(I, { name: 'xi_id_token_google_nonce_captcha', description: 'signInWithIdToken with an access token, a nonce and a captcha token; then a query as the user.',
  steps: [call('auth', 'signInWithIdToken', { provider: 'google', token: ID_TOKEN, access_token: 'ya29.extra-access', nonce: 'raw-nonce-123', options: { captchaToken: 'cap-id-1' } }),
    db(['from', 'notes'], ['select', 'id'])],
  responses: [tokenRule('id_token', session(GRACE, 'gr4ce1dt0k')), rest('GET', 'notes', [{ id: 1 }])] });
add(I, { name: 'xi_id_token_apple_refused', description: 'signInWithIdToken with provider and token only, refused with 400.',
  steps: [call('auth', 'signInWithIdToken', { provider: 'apple', token: ID_TOKEN })],
  responses: [{ match: { method: 'POST', path: '/auth/v1/token', query: { grant_type: 'id_token' } }, ...authErr(400, 'validation_failed', 'Provider (issuer "https://accounts.google.com") is not enabled') }] });
add(I, { name: 'xi_sso_provider_id_captcha', description: 'signInWithSSO by provider id with a captcha token and redirectTo: the URL from the answer.',
  steps: [call('auth', 'signInWithSSO', { providerId: '4a5b6c7d-8e9f-4a0b-9c1d-2e3f4a5b6c7d', options: { captchaToken: 'cap-sso-1', redirectTo: 'https://extra.example.org/sso-done' } })],
  responses: [{ match: { method: 'POST', path: '/auth/v1/sso' }, status: 200, headers: V, body: { url: 'https://idp.example.org/saml/sso?SAMLRequest=abc%2Bdef' } }] });
add(I, { name: 'xi_sso_domain_not_found', description: 'signInWithSSO for a domain without a provider: 404 sso_provider_not_found.',
  steps: [call('auth', 'signInWithSSO', { domain: 'unknown.example' })],
  responses: [{ match: { method: 'POST', path: '/auth/v1/sso' }, ...authErr(404, 'sso_provider_not_found', 'No SSO provider assigned for this domain') }] });
add(I, { name: 'xi_get_user_identities', description: 'getUserIdentities reads the identities of GET /user.',
  steps: [signIn(GRACE), call('auth', 'getUserIdentities')],
  responses: [signInRule(GRACE, 'gr4ce0r1g1n'), { match: { method: 'GET', path: '/auth/v1/user' }, status: 200, headers: V,
    body: (() => { const u = user(GRACE); u.identities.push(GOOGLE_ID); u.app_metadata.providers.push('google'); return u; })() }] });
add(I, { name: 'xi_link_identity_scopes_params', description: 'linkIdentity with scopes and query parameters in the implicit flow.',
  steps: [signIn(LINUS), call('auth', 'linkIdentity', { provider: 'github', options: { scopes: 'repo gist', queryParams: { allow_signup: 'false' }, skipBrowserRedirect: true } })],
  responses: [signInRule(LINUS, 'l1nusrefresh'), { match: { method: 'GET', path: '/auth/v1/user/identities/authorize' }, status: 200, headers: V, body: { url: 'https://github.com/login/oauth/authorize?client_id=extra' } }] });
add(I, { name: 'xi_link_identity_id_token', description: 'linkIdentity with an ID token: POST token grant id_token with link_identity as the user; the new session is used.',
  steps: [signIn(GRACE), call('auth', 'linkIdentity', { provider: 'google', token: ID_TOKEN, nonce: 'raw-nonce-456' }), db(['from', 'notes'], ['select', 'id'])],
  responses: [signInRule(GRACE, 'gr4ce0r1g1n'), tokenRule('id_token', session(GRACE, 'gr4cel1nked')), rest('GET', 'notes', [])] });
add(I, { name: 'xi_unlink_identity', description: 'unlinkIdentity sends DELETE /user/identities/{identity_id}.',
  steps: [signIn(GRACE), call('auth', 'unlinkIdentity', GOOGLE_ID)],
  responses: [signInRule(GRACE, 'gr4ce0r1g1n'), { match: { method: 'DELETE', path: `/auth/v1/user/identities/${GOOGLE_ID.identity_id}` }, status: 200, headers: V, body: {} }] });
add(I, { name: 'xi_unlink_last_identity_refused', description: 'unlinkIdentity of the only identity: 422 single_identity_not_deletable.',
  steps: [signIn(LINUS), call('auth', 'unlinkIdentity', user(LINUS).identities[0])],
  responses: [signInRule(LINUS, 'l1nusrefresh'), { match: { method: 'DELETE', path: `/auth/v1/user/identities/${LINUS.identity}` }, ...authErr(422, 'single_identity_not_deletable', 'User must have at least 1 identity after unlinking') }] });

// weak passwords: beside a session, and in the legacy error shape (no API
// version header, {code: 422, msg, weak_password})
const WEAK = { message: 'Password is known to be weak and easy to guess, please choose a different one.', reasons: ['length', 'pwned'] };
add(A, { name: 'xa_sign_in_weak_password_warning', description: 'signInWithPassword answered with a session and weak_password: data.weakPassword.',
  steps: [signIn(GRACE, 'hunter2')],
  responses: [{ ...signInRule(GRACE, 'gr4cewe4k'), body: { ...session(GRACE, 'gr4cewe4k'), weak_password: WEAK } }] });
add(A, { name: 'xa_sign_in_phone_weak_password', description: 'signInWithPassword by phone answered with weak_password (one reason).',
  steps: [{ target: 'auth', chain: [{ call: 'signInWithPassword', args: [{ phone: '+4915112345678', password: 'abcdefgh' }] }] }],
  responses: [{ ...signInRule(LINUS, 'l1nuswe4k'), body: { ...session(LINUS, 'l1nuswe4k'), weak_password: { message: 'Password should contain digits.', reasons: ['characters'] } } }] });
const legacy = (status, body) => ({ status, body });
add(A, { name: 'xa_err_weak_password_legacy', description: 'signUp refused in the legacy shape (no API version, integer code, msg, weak_password): AuthWeakPasswordError.',
  steps: [call('auth', 'signUp', { email: 'ada.legacy@example.org', password: 'short' })],
  responses: [{ match: { method: 'POST', path: '/auth/v1/signup' }, ...legacy(422, { code: 422, msg: 'Password should be at least 10 characters', weak_password: { reasons: ['length'] } }) }] });
add(A, { name: 'xa_err_legacy_error_code_beats_weak_password', description: 'legacy shape with an error_code other than weak_password: an AuthApiError without reasons.',
  steps: [call('auth', 'signUp', { email: 'ada.legacy@example.org', password: 'short' })],
  responses: [{ match: { method: 'POST', path: '/auth/v1/signup' }, ...legacy(422, { code: 422, error_code: 'validation_failed', msg: 'Unable to validate email address: invalid format', weak_password: { reasons: ['length'] } }) }] });
add(A, { name: 'xa_err_legacy_weak_password_no_reasons', description: 'legacy shape with weak_password but no reasons: an AuthApiError without a code.',
  steps: [call('auth', 'signUp', { email: 'ada.legacy@example.org', password: 'short' })],
  responses: [{ match: { method: 'POST', path: '/auth/v1/signup' }, ...legacy(422, { code: 422, msg: 'Signup requires a valid password', weak_password: { reasons: [] } }) }] });
add(A, { name: 'xa_err_update_password_weak_legacy', description: 'updateUser with a new password refused in the legacy weak-password shape.',
  steps: [signIn(LINUS), call('auth', 'updateUser', { password: 'abc' })],
  responses: [signInRule(LINUS, 'l1nusrefresh'), { match: { method: 'PUT', path: '/auth/v1/user' }, ...legacy(422, { code: 422, msg: 'Password should be at least 10 characters', weak_password: { reasons: ['length', 'characters'] } }) }] });

// lost sessions: a refused refresh or session_not_found, then a data,
// storage or functions call
const expiredSession = (u, refresh) => ({ ...session(u, refresh), access_token: makeJwt({ aud: 'authenticated', exp: 1700003600, iat: 1700000000, sub: u.id, role: 'authenticated', session_id: u.session }), expires_at: 1700003600 });
add(S, { name: 'xs_lost_refresh_already_used_then_rpc', description: 'an expired session whose refresh is refused (refresh_token_already_used), then an rpc.',
  steps: [signIn(MARGARET), db(['rpc', 'my_orders', { status: 'open' }])],
  responses: [{ ...signInRule(MARGARET, 'm4rgexp1red'), body: expiredSession(MARGARET, 'm4rgexp1red') },
    { match: { method: 'POST', path: '/auth/v1/token', query: { grant_type: 'refresh_token' } }, ...authErr(400, 'refresh_token_already_used', 'Invalid Refresh Token: Already Used') },
    rest('POST', 'rpc/my_orders', [])] });
add(S, { name: 'xs_lost_session_not_found_then_storage', description: 'getUser answered session_not_found, then a storage list.',
  steps: [signIn(GRACE), call('auth', 'getUser'), { target: 'storage', chain: [{ call: 'from', args: ['avatars'] }, { call: 'list', args: ['grace'] }] }],
  responses: [signInRule(GRACE, 'gr4ce0r1g1n'), { match: { method: 'GET', path: '/auth/v1/user' }, ...authErr(403, 'session_not_found', 'Session from session_id claim in JWT does not exist') },
    { match: { method: 'POST', path: '/storage/v1/object/list/avatars' }, status: 200, body: [] }] });
add(S, { name: 'xs_lost_session_expired_then_invoke', description: 'an expired session whose refresh is refused (session_expired), then a function call.',
  steps: [signIn(LINUS), { target: 'functions', chain: [{ call: 'invoke', args: ['whoami'] }] }],
  responses: [{ ...signInRule(LINUS, 'l1nusexp1red'), body: expiredSession(LINUS, 'l1nusexp1red') },
    { match: { method: 'POST', path: '/auth/v1/token', query: { grant_type: 'refresh_token' } }, ...authErr(400, 'session_expired', 'Session Expired') },
    { match: { method: 'POST', path: '/functions/v1/whoami' }, status: 200, body: { role: 'anon' } }] });

fs.mkdirSync(OUT, { recursive: true });
let n = 0;
for (const [f, cases] of Object.entries(files)) {
  fs.writeFileSync(path.join(OUT, f + '.json'), formatCases(cases));
  n += cases.length;
}
console.error(`${n} cases in ${Object.keys(files).length} files`);

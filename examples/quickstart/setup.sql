-- What the quickstart needs in a Supabase project (run it in the SQL editor,
-- or put it in a migration for `supabase start`); the local stack's demo
-- schema is the same. Sign-ups must be confirmed automatically (Auth >
-- Providers > Email: "Confirm email" off) for the two demo users to sign in.

-- A todo list where each user sees and changes only their own rows.
create table if not exists public.todos (
  id bigint generated always as identity primary key,
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  title text not null,
  done boolean not null default false,
  created_at timestamptz not null default now()
);
alter table public.todos enable row level security;
drop policy if exists "Users see their own todos" on public.todos;
create policy "Users see their own todos" on public.todos
  for select to authenticated using (user_id = auth.uid());
drop policy if exists "Users add their own todos" on public.todos;
create policy "Users add their own todos" on public.todos
  for insert to authenticated with check (user_id = auth.uid());
drop policy if exists "Users change their own todos" on public.todos;
create policy "Users change their own todos" on public.todos
  for update to authenticated using (user_id = auth.uid()) with check (user_id = auth.uid());
drop policy if exists "Users delete their own todos" on public.todos;
create policy "Users delete their own todos" on public.todos
  for delete to authenticated using (user_id = auth.uid());

-- A private bucket where each user reads and writes only under a folder
-- named after their user id: <uid>/avatar.png.
insert into storage.buckets (id, name, public) values ('avatars', 'avatars', false)
  on conflict (id) do nothing;
drop policy if exists "Users read their own avatars" on storage.objects;
create policy "Users read their own avatars" on storage.objects for select to authenticated
  using (bucket_id = 'avatars' and (storage.foldername(name))[1] = auth.uid()::text);
drop policy if exists "Users upload their own avatars" on storage.objects;
create policy "Users upload their own avatars" on storage.objects for insert to authenticated
  with check (bucket_id = 'avatars' and (storage.foldername(name))[1] = auth.uid()::text);
drop policy if exists "Users change their own avatars" on storage.objects;
create policy "Users change their own avatars" on storage.objects for update to authenticated
  using (bucket_id = 'avatars' and (storage.foldername(name))[1] = auth.uid()::text)
  with check (bucket_id = 'avatars' and (storage.foldername(name))[1] = auth.uid()::text);
drop policy if exists "Users delete their own avatars" on storage.objects;
create policy "Users delete their own avatars" on storage.objects for delete to authenticated
  using (bucket_id = 'avatars' and (storage.foldername(name))[1] = auth.uid()::text);

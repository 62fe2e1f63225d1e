-- Rows of the original for test_import_venta.c: every mapping and every kind of row
-- import-venta must skip. Ids: u<n> users, v = the user's id (vendor.id is user.id),
-- s<n> subscriptions, i<n> integrations. Times are UTC, as Prisma writes them.
INSERT INTO "user" (id, "clerkId", lat, long, "createdAt", "updatedAt") VALUES
  ('0a000001-0000-4000-8000-000000000001', 'user_alice', 40.0, -73.0, '2024-08-01 10:00:00.123', '2024-08-02 10:00:00'),
  ('0a000002-0000-4000-8000-000000000002', 'user_bob', NULL, NULL, '2024-08-03 10:00:00', '2024-08-03 10:00:00'),
  ('0a000003-0000-4000-8000-000000000003', '', NULL, NULL, '2024-08-04 10:00:00', '2024-08-04 10:00:00'),
  ('0a000004-0000-4000-8000-000000000004', 'user with spaces', NULL, NULL, '2024-08-04 10:00:00', '2024-08-04 10:00:00'),
  ('ckx0cuid00000000user5', 'user_cuid', NULL, NULL, '2024-08-05 10:00:00', '2024-08-05 10:00:00'),
  ('0a000006-0000-4000-8000-000000000006', 'user_longname', NULL, NULL, '2024-08-06 10:00:00', '2024-08-06 10:00:00'),
  ('0a000007-0000-4000-8000-000000000007', 'user_blankname', NULL, NULL, '2024-08-07 10:00:00', '2024-08-07 10:00:00'),
  ('0a000008-0000-4000-8000-000000000008', 'user_badloc', NULL, NULL, '2024-08-08 10:00:00', '2024-08-08 10:00:00'),
  ('0A000009-0000-4000-8000-00000000000F', 'user_upper', NULL, NULL, '2024-08-09 10:00:00', '2024-08-09 10:00:00'),
  ('0a000010-0000-4000-8000-000000000010', 'user_deleted', NULL, NULL, '2024-08-10 10:00:00', '2024-08-10 10:00:00'),
  ('0a000011-0000-4000-8000-000000000011', 'user_pending', NULL, NULL, '2024-08-11 10:00:00', '2024-08-11 10:00:00'),
  ('0a000012-0000-4000-8000-000000000012', 'user_inactive', NULL, NULL, '2024-08-12 10:00:00', '2024-08-12 10:00:00'),
  ('0a000013-0000-4000-8000-000000000013', 'user_trialing', NULL, NULL, '2024-08-13 10:00:00', '2024-08-13 10:00:00'),
  ('0a000014-0000-4000-8000-000000000014', 'user_badjson', NULL, NULL, '2024-08-14 10:00:00', '2024-08-14 10:00:00'),
  ('0a000015-0000-4000-8000-000000000015', 'user_halfloc', NULL, NULL, '2024-08-15 10:00:00', '2024-08-15 10:00:00');

INSERT INTO vendor (id, lat, long, name, description, phone, email, website, open, "primaryImage", "createdAt", "updatedAt") VALUES
  ('0a000001-0000-4000-8000-000000000001', 40.7128, -74.006, 'Tacos El Gordo', 'Al pastor since 1999', '+1 212-555-0100', 'hola@elgordo.example', 'https://elgordo.example', true, 'https://cdn.example/elgordo.jpg', '2024-08-01 11:00:00', '2024-09-01 12:00:00.250'),
  ('0a000002-0000-4000-8000-000000000002', NULL, NULL, 'Bob''s Dogs', NULL, NULL, NULL, NULL, false, NULL, '2024-08-03 11:00:00', '2024-08-03 11:00:00'),
  ('0a000003-0000-4000-8000-000000000003', NULL, NULL, 'No Clerk Cart', NULL, NULL, NULL, NULL, false, NULL, '2024-08-04 11:00:00', '2024-08-04 11:00:00'),
  ('ckx0cuid00000000user5', 1, 1, 'Cuid Cart', NULL, NULL, NULL, NULL, false, NULL, '2024-08-05 11:00:00', '2024-08-05 11:00:00'),
  ('0a000006-0000-4000-8000-000000000006', NULL, NULL, repeat('N', 121), NULL, NULL, NULL, NULL, false, NULL, '2024-08-06 11:00:00', '2024-08-06 11:00:00'),
  ('0a000007-0000-4000-8000-000000000007', NULL, NULL, '   ', NULL, NULL, NULL, NULL, false, NULL, '2024-08-07 11:00:00', '2024-08-07 11:00:00'),
  ('0a000008-0000-4000-8000-000000000008', 95.5, 10, 'Lost Truck', NULL, '(555) 123-4567', 'not an email', 'javascript:alert(1)', true, 'ftp://x/y.png', '2024-08-08 11:00:00', '2024-08-08 11:00:00'),
  ('0A000009-0000-4000-8000-00000000000F', -33.8688, 151.2093, 'Upper Case Pies', NULL, NULL, NULL, NULL, false, NULL, '2024-08-09 11:00:00', '2024-08-09 11:00:00'),
  ('0a000010-0000-4000-8000-000000000010', NULL, NULL, 'Deleted Owner Eats', NULL, NULL, NULL, NULL, false, NULL, '2024-08-10 11:00:00', '2024-08-10 11:00:00'),
  ('0a000015-0000-4000-8000-000000000015', 12.5, NULL, 'Half Located', NULL, NULL, NULL, NULL, false, NULL, '2024-08-15 11:00:00', '2024-08-15 11:00:00');

-- A vendor whose user is gone: the foreign key forbids it, so it is written with
-- triggers off, as a restored dump or a hand repair leaves one behind.
SET session_replication_role = replica;
INSERT INTO vendor (id, name, "updatedAt") VALUES
  ('0a0000ff-0000-4000-8000-0000000000ff', 'Orphan Grill', '2024-08-20 11:00:00');
SET session_replication_role = DEFAULT;

-- 'Trialing' below is a status of a later version of the original: the test adds it to
-- the enum (ALTER TYPE … ADD VALUE) before it loads this file.
INSERT INTO user_subscription (id, "userId", status, "createdAt", "updatedAt") VALUES
  ('s1', '0a000001-0000-4000-8000-000000000001', 'Active', '2024-08-01 12:00:00', '2024-08-01 12:00:00'),
  ('s2', '0a000002-0000-4000-8000-000000000002', 'Cancelled', '2024-08-03 12:00:00', '2024-10-03 12:00:00'),
  ('s3', '0a000003-0000-4000-8000-000000000003', 'Active', '2024-08-04 12:00:00', '2024-08-04 12:00:00'),
  ('s11', '0a000011-0000-4000-8000-000000000011', 'Pending', '2024-08-11 12:00:00', '2024-08-11 12:00:00'),
  ('s12', '0a000012-0000-4000-8000-000000000012', 'Inactive', '2024-08-12 12:00:00', '2024-08-12 12:00:00'),
  ('s13', '0a000013-0000-4000-8000-000000000013', 'Trialing', '2024-08-13 12:00:00', '2024-08-13 12:00:00'),
  ('s14', '0a000014-0000-4000-8000-000000000014', 'Active', '2024-08-14 12:00:00', '2024-08-14 12:00:00');

INSERT INTO integration (id, type, data, "providerId", "userId", "createdAt", "updatedAt") VALUES
  ('i1', 'RevenueCat', '{"eventId": "evt_alice_1", "productId": "venta_pro_monthly", "transactionId": "1000000123"}', 'venta_pro_monthly', '0a000001-0000-4000-8000-000000000001', '2024-08-01 12:00:00', '2024-08-01 12:00:00'),
  ('i2', 'Clerk', NULL, 'user_bob', '0a000002-0000-4000-8000-000000000002', '2024-08-03 12:00:00', '2024-08-03 12:00:00'),
  ('i3', 'RevenueCat', '[1, 2]', 'venta_pro_yearly', '0a000014-0000-4000-8000-000000000014', '2024-08-14 12:00:00', '2024-08-14 12:00:00'),
  ('i4', 'RevenueCat', NULL, 'venta_pro_monthly', '0a000012-0000-4000-8000-000000000012', '2024-08-12 12:00:00', '2024-08-12 12:00:00'),
  ('i5', 'RevenueCat', '{"eventId": "evt_x", "productId": "p"}', 'p', '0a000011-0000-4000-8000-000000000011', '2024-08-11 12:00:00', '2024-08-11 12:00:00'),
  ('i6', 'RevenueCat', '{"eventId": "evt_noclerk", "productId": "p", "transactionId": "t"}', 'p', '0a000003-0000-4000-8000-000000000003', '2024-08-04 12:00:00', '2024-08-04 12:00:00');

-- Demo data for scripts/run (not a migration: venta-migrate ignores this folder).
-- Twenty food trucks in lower Manhattan, all owned by the demo fleet user
-- `user_demo_fleet`, whose token the vendor simulator uses to stream their positions
-- over the WebSocket edge. Idempotent: running it again changes nothing.
INSERT INTO account.users (clerk_id, email, first_name, last_name)
VALUES ('user_demo_fleet', 'fleet@venta.example', 'Demo', 'Fleet')
ON CONFLICT (clerk_id) DO NOTHING;

INSERT INTO vendor.vendors (id, owner_id, name, description, is_open, last_location, last_location_at)
VALUES
    ('d0000000-0000-4000-8000-000000000001', 'user_demo_fleet', 'Tacos El Gordo', 'tacos al pastor, carnitas, horchata', true, ST_SetSRID(ST_MakePoint(-73.9670, 40.7370), 4326)::geography, now()),
    ('d0000000-0000-4000-8000-000000000002', 'user_demo_fleet', 'Halal Cart 53rd', 'chicken over rice, lamb gyro, white sauce', true, ST_SetSRID(ST_MakePoint(-74.0140, 40.7740), 4326)::geography, now()),
    ('d0000000-0000-4000-8000-000000000003', 'user_demo_fleet', 'Dumpling Wagon', 'pork and chive dumplings, scallion pancakes', true, ST_SetSRID(ST_MakePoint(-73.9610, 40.7110), 4326)::geography, now()),
    ('d0000000-0000-4000-8000-000000000004', 'user_demo_fleet', 'Arepa Lady', 'corn arepas with cheese', true, ST_SetSRID(ST_MakePoint(-74.0080, 40.7480), 4326)::geography, now()),
    ('d0000000-0000-4000-8000-000000000005', 'user_demo_fleet', 'Crêpe Cruiser', 'sweet and savory crepes', true, ST_SetSRID(ST_MakePoint(-73.9550, 40.7850), 4326)::geography, now()),
    ('d0000000-0000-4000-8000-000000000006', 'user_demo_fleet', 'Bánh Mì Express', 'vietnamese sandwiches and iced coffee', true, ST_SetSRID(ST_MakePoint(-74.0020, 40.7220), 4326)::geography, now()),
    ('d0000000-0000-4000-8000-000000000007', 'user_demo_fleet', 'Pizza Sprinter', 'wood-fired pizza by the slice', true, ST_SetSRID(ST_MakePoint(-73.9490, 40.7590), 4326)::geography, now()),
    ('d0000000-0000-4000-8000-000000000008', 'user_demo_fleet', 'Korean BBQ Box', 'bulgogi and kimchi fries', true, ST_SetSRID(ST_MakePoint(-73.9960, 40.7960), 4326)::geography, now()),
    ('d0000000-0000-4000-8000-000000000009', 'user_demo_fleet', 'Falafel King', 'falafel, hummus, shawarma', true, ST_SetSRID(ST_MakePoint(-73.9430, 40.7330), 4326)::geography, now()),
    ('d0000000-0000-4000-8000-000000000010', 'user_demo_fleet', 'Lobster Roll Truck', 'maine lobster rolls', true, ST_SetSRID(ST_MakePoint(-73.9900, 40.7700), 4326)::geography, now()),
    ('d0000000-0000-4000-8000-000000000011', 'user_demo_fleet', 'Jerk Chicken Jam', 'jamaican jerk chicken and plantains', true, ST_SetSRID(ST_MakePoint(-73.9370, 40.7070), 4326)::geography, now()),
    ('d0000000-0000-4000-8000-000000000012', 'user_demo_fleet', 'Gelato on Wheels', 'italian gelato and sorbet', true, ST_SetSRID(ST_MakePoint(-73.9840, 40.7440), 4326)::geography, now()),
    ('d0000000-0000-4000-8000-000000000013', 'user_demo_fleet', 'Pierogi Patrol', 'polish pierogi and kielbasa', true, ST_SetSRID(ST_MakePoint(-73.9310, 40.7810), 4326)::geography, now()),
    ('d0000000-0000-4000-8000-000000000014', 'user_demo_fleet', 'Ramen Rover', 'tonkotsu ramen', true, ST_SetSRID(ST_MakePoint(-73.9780, 40.7180), 4326)::geography, now()),
    ('d0000000-0000-4000-8000-000000000015', 'user_demo_fleet', 'Empanada Mama', 'argentinian empanadas', true, ST_SetSRID(ST_MakePoint(-73.9250, 40.7550), 4326)::geography, now()),
    ('d0000000-0000-4000-8000-000000000016', 'user_demo_fleet', 'Coffee Cart Co', 'espresso, cold brew and pastries', true, ST_SetSRID(ST_MakePoint(-73.9720, 40.7920), 4326)::geography, now()),
    ('d0000000-0000-4000-8000-000000000017', 'user_demo_fleet', 'Waffle Wagon', 'belgian waffles', true, ST_SetSRID(ST_MakePoint(-74.0190, 40.7290), 4326)::geography, now()),
    ('d0000000-0000-4000-8000-000000000018', 'user_demo_fleet', 'Curry in a Hurry', 'indian curries and samosas', true, ST_SetSRID(ST_MakePoint(-73.9660, 40.7660), 4326)::geography, now()),
    ('d0000000-0000-4000-8000-000000000019', 'user_demo_fleet', 'Poke Porter', 'hawaiian poke bowls', true, ST_SetSRID(ST_MakePoint(-74.0130, 40.7030), 4326)::geography, now()),
    ('d0000000-0000-4000-8000-000000000020', 'user_demo_fleet', 'BBQ Smokehouse', 'texas brisket and ribs', true, ST_SetSRID(ST_MakePoint(-73.9600, 40.7400), 4326)::geography, now())
ON CONFLICT (id) DO NOTHING;

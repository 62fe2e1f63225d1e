-- 100,000 vendors with realistic names and descriptions (bench/search/run), drawn from
-- word lists with a fixed seed: names are "<adjective> <food> <kind>" with a person's
-- or a place's name a third of the time; descriptions 6 to 14 words of food and service
-- vocabulary. Every row goes through the search triggers of 0011_search.sql; then
-- VACUUM, as autovacuum would leave the tables (index-only scans need the visibility map).
SELECT setseed(0.19);
WITH w AS (SELECT
  '{golden,little,big,happy,hungry,spicy,sunny,urban,rolling,midnight,royal,lucky,rustic,fresh,smoky,sweet,crispy,wild,blue,red,green,old,new,famous,tiny,grand,cozy,jolly,savory,zesty,humble,bold,lazy,quick,early,late,northern,southern,eastern,western}'::text[] AS adj,
  '{taco,burrito,pizza,burger,noodle,ramen,dumpling,kebab,falafel,shawarma,crepe,waffle,pretzel,churro,gelato,coffee,espresso,bagel,donut,pho,curry,biryani,arepa,empanada,tamale,quesadilla,nacho,hotdog,sandwich,sushi,poke,bao,satay,gyro,pierogi,bratwurst,lobster,oyster,barbecue,brisket,chicken,wings,fries,poutine,smoothie,juice,lemonade,horchata,boba,tea,cupcake,cookie,brownie,pancake,omelette,salad,soup,chili,paella,risotto}'::text[] AS food,
  '{truck,cart,stand,wagon,kitchen,express,shack,corner,house,bar,hut,grill,co,bus,van,stall,spot,garden,box,station}'::text[] AS kind,
  '{maria,jose,luigi,ahmed,kim,chen,olga,pierre,fatima,rosa,diego,yuki,anna,marco,leila,omar,sofia,raj,ivan,lucia,brooklyn,queens,harlem,soho,mission,austin,denver,oakland,portland,seattle,camden,lyon,napoli,oaxaca,saigon,seoul,lagos,lima,kyoto,berlin}'::text[] AS who,
  '{al,pastor,carne,asada,pollo,asado,fresh,handmade,homemade,daily,organic,local,spicy,mild,vegan,vegetarian,gluten,free,halal,kosher,grilled,fried,roasted,steamed,smoked,baked,crispy,tender,juicy,sweet,sour,savory,tangy,cheesy,garlic,lime,cilantro,salsa,verde,roja,guacamole,queso,rice,beans,tortilla,flour,corn,noodles,broth,dumplings,sauce,peanut,sesame,ginger,chili,pepper,onion,tomato,avocado,mango,pineapple,coconut,chocolate,vanilla,caramel,cinnamon,matcha,coffee,latte,cold,brew,iced,hot,late,night,lunch,breakfast,brunch,dinner,weekend,catering,events,delivery,pickup,cash,card,family,recipe,since,best,city,street,food,market,festival,downtown,near,park,beach,campus,office,serving,tacos,burritos,bowls,wraps,plates,combos,specials,desserts,drinks,smoothies,shakes,horchata,agua,fresca,churros,donuts,pastries,bread,buns,skewers,wings,ribs,brisket,pulled,pork,beef,lamb,fish,shrimp,tofu,paneer,kimchi,bulgogi,teriyaki,curry,masala,tikka,naan,pita,hummus,tzatziki,feta,olive,basil,pesto,mozzarella,pepperoni,mushroom,truffle,bacon,egg,cheese,butter,honey,maple,berry,lemon,strawberry,banana}'::text[] AS descw)
INSERT INTO vendor.vendors (owner_id, name, description, is_open, updated_at)
SELECT 'bench_owner_' || (g % 5000),
       initcap(adj[1 + floor(random() * array_length(adj, 1))::int] || ' ' ||
               food[1 + floor(random() * array_length(food, 1))::int] || ' ' ||
               kind[1 + floor(random() * array_length(kind, 1))::int] ||
               CASE WHEN random() < 0.33 THEN ' ' || who[1 + floor(random() * array_length(who, 1))::int] ELSE '' END),
       -- (k in the argument keeps the aggregate in the subquery, once per vendor)
       (SELECT string_agg(descw[1 + floor(random() * array_length(descw, 1))::int + 0 * k], ' ')
        FROM generate_series(1, 6 + (g % 9)) AS k),
       random() < 0.4,
       now() - random() * interval '90 days'
FROM w, generate_series(1, 100000) AS g;
VACUUM ANALYZE vendor.vendors;
VACUUM ANALYZE vendor.search_postings;
VACUUM ANALYZE vendor.search_variants;
VACUUM ANALYZE vendor.search_terms;

-- A day of the application's work: some orders move on, some customers
-- change, new customers and orders arrive.  All with one updated_at per
-- statement (now()), as a bulk update would.
SET search_path = batch_job;
UPDATE orders SET status = CASE status WHEN 'new' THEN 'paid' WHEN 'paid' THEN 'shipped'
	WHEN 'shipped' THEN 'delivered' ELSE status END, updated_at = now()
	WHERE id % 37 = 0;
UPDATE customers SET vip = NOT vip, updated_at = now() WHERE id % 41 = 0;
INSERT INTO customers (id, name, country)
	SELECT m + g, 'Customer ' || (m + g), 'DE' FROM (SELECT max(id) m FROM customers) x,
	generate_series(1, 5) g;
INSERT INTO orders (id, customer_id, status, total, items)
	SELECT m + g, 1 + g % 5, 'new', 10 + g, 1 FROM (SELECT max(id) m FROM orders) x,
	generate_series(1, 20) g;

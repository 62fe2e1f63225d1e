-- wrk script: every request carries the session JWT from VENTA_BENCH_TOKEN.
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("VENTA_BENCH_TOKEN")

"""``baton otlp``'s receiver: an OTLP/HTTP trace endpoint that writes each request as one
OTLP/JSON line into spool files the watcher ingests like any other OTLP file (the files
stay the single source of truth). ``server`` (HTTP), ``request_body`` (content type, size,
gzip, decoding), ``proto_json`` (protobuf to the OTLP JSON mapping), ``spool`` (durable,
rotated appends), ``responses`` (the spec's response bodies)."""

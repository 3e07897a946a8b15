// bench/tracing's gateway: the bench gateway server with the service's tracing bootstrap loaded first, as
// services/gateway/src/main.ts does, so OTEL_EXPORTER_OTLP_ENDPOINT decides whether anything is traced.
import '../services/gateway/src/tracing.bootstrap';
import './gateway-server';

-- Trace context (issue 17): the W3C traceparent of the request (or job) that queued a job or wrote an event, so the
-- job's run and the event's webhook deliveries continue its trace.
ALTER TABLE jobs ADD COLUMN trace_parent character varying(55) NULL;
ALTER TABLE events ADD COLUMN trace_parent character varying(55) NULL;

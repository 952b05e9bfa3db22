-- One text rule for the API and the importer (issue #12): names lose surrounding whitespace and an empty description is
-- none. Rows stored before the rule are brought to it (as a new version, so their ETag changes), so exporting and
-- importing them again changes nothing.
UPDATE products
SET name = btrim(name, E' \t\n\x0b\x0c\r'),
    description = nullif(description, ''),
    version = version + 1,
    updated_at = now()
WHERE name <> btrim(name, E' \t\n\x0b\x0c\r') OR description = '';

-- One spelling of a webhook failure (issue #12): the delivery log wrote Status, BlockedAddress, Interrupted where the test
-- ping said status, blocked_address; both now use snake_case, as every enum the API returns.
UPDATE webhook_attempts
SET failure = CASE failure WHEN 'BlockedAddress' THEN 'blocked_address' ELSE lower(failure) END
WHERE failure IS NOT NULL;

ALTER TABLE tasks DROP COLUMN result_key;

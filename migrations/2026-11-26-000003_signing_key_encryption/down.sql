ALTER TABLE signing_keys DROP COLUMN private_key_encryption;

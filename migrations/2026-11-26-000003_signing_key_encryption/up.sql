-- A private signing key may be sealed under AUTHD_KEY_ENCRYPTION_KEY: private_key then holds
-- nonce || ciphertext || tag, and this column names the scheme. NULL: stored as plain PKCS#8.
ALTER TABLE signing_keys
    ADD COLUMN private_key_encryption text CHECK (private_key_encryption IN ('A256GCM'));

DROP TABLE user_tombstones;
DROP TABLE password_resets;

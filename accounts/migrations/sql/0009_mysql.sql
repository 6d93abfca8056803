ALTER TABLE `accounts_idempotencykey` MODIFY `key` varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL

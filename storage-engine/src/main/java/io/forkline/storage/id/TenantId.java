package io.forkline.storage.id;

import java.util.regex.Pattern;

/**
 * A tenant's name: one PostgreSQL cluster and all its branches (Neon's "project"). 1-63
 * characters, a lower-case letter first, then lower-case letters, digits, {@code _} or {@code -}.
 */
public record TenantId(String name) {
    private static final Pattern VALID = Pattern.compile("[a-z][a-z0-9_-]{0,62}");

    /**
     * @throws IllegalArgumentException naming the value when it breaks the rule above
     */
    public TenantId {
        if (name == null || !VALID.matcher(name).matches()) {
            throw new IllegalArgumentException("invalid tenant name '" + name
                    + "': 1-63 characters, a lower-case letter first, then a-z 0-9 _ -");
        }
    }

    @Override
    public String toString() {
        return name;
    }
}

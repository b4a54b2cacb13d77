package io.forkline.pageserver.branch;

import io.forkline.compute.proxy.ScramVerifier;
import io.forkline.pageserver.access.ConnectionStrings;
import io.forkline.pageserver.access.Credentials;
import io.forkline.pageserver.access.EndpointIds;
import io.forkline.pageserver.api.ApiException;
import io.forkline.pageserver.metadata.MetadataRecords;
import io.forkline.pageserver.tenant.BranchInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The endpoint id and password of every branch: assigns them when a branch is made (and, at load,
 * to branches of servers before endpoint ids), finds a branch by endpoint id (an in-memory index
 * {@code id -> tenant/ref}, checked against the branch record on every hit and rebuilt from the
 * records on a miss, at most once a second), and builds connection strings.
 *
 * <p>Thread-safe. Changes of one branch are serialized by its tenant's lock (callers).
 */
public final class BranchAccess {
    private static final Logger log = LoggerFactory.getLogger(BranchAccess.class);
    private static final long REBUILD_NANOS = 1_000_000_000L;

    private final BranchRecords records;
    private final Credentials credentials;
    private volatile ConnectionStrings strings = ConnectionStrings.configured();
    private final Map<String, String> index = new ConcurrentHashMap<>();
    private volatile long lastRebuild = System.nanoTime() - 2 * REBUILD_NANOS;

    /** A branch found by its endpoint id. */
    public record Located(String tenant, String ref, BranchInfo branch) {
    }

    BranchAccess(BranchRecords records, Credentials credentials) {
        this.records = records;
        this.credentials = credentials;
    }

    /** The passwords' store. */
    public Credentials credentials() {
        return credentials;
    }

    /** Where connection strings point (the proxy's host and port). */
    public ConnectionStrings connectionStrings() {
        return strings;
    }

    /** Points connection strings at {@code s} (e.g. the port the proxy bound). */
    public void useConnectionStrings(ConnectionStrings s) {
        this.strings = java.util.Objects.requireNonNull(s, "s");
    }

    private volatile boolean urisThroughProxy;

    /**
     * From now on the API's {@code uri} of a running endpoint (what {@code endpoint start},
     * {@code branch list} and the console print) is the connection string through the proxy at
     * {@code s} instead of the compute's own address: what the server calls once its Postgres proxy
     * listens.
     */
    public void useProxy(ConnectionStrings s) {
        useConnectionStrings(s);
        urisThroughProxy = true;
    }

    /**
     * The URI shown for branch {@code b} whose compute's own URI is {@code directUri} ({@code null}
     * when not running): {@code directUri} until {@link #useProxy}, then the branch's connection
     * string while it runs.
     */
    public String shownUri(BranchInfo b, String directUri) {
        return urisThroughProxy && directUri != null && b.endpointId() != null ? connectionString(b) : directUri;
    }

    /**
     * Gives the new branch {@code info} of {@code tenant} a fresh endpoint id (unique on this server)
     * and a password; the secret goes into {@code changes}, to be written with the branch record.
     */
    BranchInfo assign(String tenant, BranchInfo info, MetadataRecords.Changes changes) {
        String id;
        do {
            id = EndpointIds.generate();
        } while (index.putIfAbsent(id, tenant + "/" + info.ref()) != null);
        credentials.create(id, changes);
        return info.withEndpointId(id);
    }

    /** {@link #assign(String, BranchInfo, MetadataRecords.Changes)}, the secret written now. */
    BranchInfo assign(String tenant, BranchInfo info) {
        MetadataRecords.Changes c = new MetadataRecords.Changes();
        BranchInfo out = assign(tenant, info, c);
        records.write(c);
        return out;
    }

    /** {@link #assign(String, BranchInfo)} for a branch made outside this package (a tenant's {@code main}). */
    public BranchInfo assignNew(String tenant, BranchInfo info) {
        return assign(tenant, info);
    }

    /**
     * At load: indexes every branch, and gives those without an endpoint id (made by a server before
     * ids) or without a password one. Callers hold no lock: it runs before the server serves.
     *
     * @return how many branches got an id or password
     */
    int loadAndAssignMissing() {
        int n = 0;
        for (String tenant : records.tenantsWithBranches()) {
            for (BranchInfo b : records.all(tenant)) {
                String id = b.endpointId();
                if (id == null || index.putIfAbsent(id, tenant + "/" + b.ref()) != null) {
                    records.put(tenant, assign(tenant, b)); // none yet, or (never expected) another branch's
                    n++;
                } else if (!credentials.exists(id)) {
                    credentials.reset(id);
                    n++;
                }
            }
        }
        if (n > 0) {
            log.info("gave {} branch(es) an endpoint id or password", n);
        }
        lastRebuild = System.nanoTime();
        return n;
    }

    /** The branch whose endpoint id is {@code id}, or {@code null}. */
    public Located find(String id) {
        if (!EndpointIds.isValid(id)) {
            return null;
        }
        Located l = check(id);
        if (l != null) {
            return l;
        }
        long now = System.nanoTime();
        if (now - lastRebuild >= REBUILD_NANOS) {
            synchronized (this) {
                if (now - lastRebuild >= REBUILD_NANOS) {
                    rebuild();
                    lastRebuild = System.nanoTime();
                }
            }
            return check(id);
        }
        return null;
    }

    private Located check(String id) {
        String tr = index.get(id);
        if (tr == null) {
            return null;
        }
        int slash = tr.indexOf('/');
        String tenant = tr.substring(0, slash);
        String ref = tr.substring(slash + 1);
        BranchInfo b = records.find(tenant, ref);
        if (b == null || !id.equals(b.endpointId())) {
            return null; // renamed or deleted since: the rebuild finds it again
        }
        return new Located(tenant, ref, b);
    }

    private void rebuild() {
        Map<String, String> fresh = new java.util.HashMap<>();
        for (String tenant : records.tenantsWithBranches()) {
            for (BranchInfo b : records.all(tenant)) {
                if (b.endpointId() != null) {
                    fresh.put(b.endpointId(), tenant + "/" + b.ref());
                }
            }
        }
        index.keySet().retainAll(fresh.keySet());
        index.putAll(fresh);
    }

    /** The verifier of {@code b}'s password, or {@code null} when it has none. */
    public ScramVerifier verifier(BranchInfo b) {
        return b.endpointId() == null ? null : credentials.verifier(b.endpointId());
    }

    /**
     * The connection string of {@code b} through the proxy, with its password.
     *
     * @throws ApiException 409 when the branch has no endpoint id or password yet
     */
    public String connectionString(BranchInfo b) {
        String pw = b.endpointId() == null ? null : credentials.password(b.endpointId());
        if (pw == null) {
            throw ApiException.conflict("branch '" + b.ref() + "' has no endpoint credentials yet");
        }
        return strings.uri(b.endpointId(), pw);
    }
}

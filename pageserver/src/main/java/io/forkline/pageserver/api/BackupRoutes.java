package io.forkline.pageserver.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.forkline.pageserver.backup.BackupInfo;
import io.forkline.pageserver.backup.BackupService;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * Backups, backup schedules, export and import ({@link BackupService}):
 *
 * <pre>
 *   GET    /v1/tenants/{t}/backups[?branch=REF]                    -> [backup]
 *   POST   /v1/tenants/{t}/backups          {"branch"?,"label"?}   -> backup (201); 403 quota_exceeded
 *   GET    /v1/tenants/{t}/backups/{id}                            -> backup
 *   DELETE /v1/tenants/{t}/backups/{id}                            -> {}
 *   POST   /v1/tenants/{t}/backups/{id}/restore {"branch"}         -> branch (201)
 *   GET    /v1/tenants/{t}/backups/{id}/export                     -> application/x-tar (streamed)
 *   GET    /v1/tenants/{t}/backup-schedules                        -> [schedule]
 *   POST   /v1/tenants/{t}/backup-schedules {"frequency","retention","start"?,"name"?,"branch"?}
 *                                                                  -> schedule (201); 403 quota_exceeded
 *   DELETE /v1/tenants/{t}/backup-schedules/{id}                   -> {}
 *   POST   /v1/tenants/import               {"name","path"}        -> tenant (201)
 *   GET    /v1/imports                      -> [progress] of the imports from a primary running now
 *   POST   /v1/tenants/import               {"name","from_primary"} -> tenant (201): main mirrors that primary
 *   POST   /v1/tenants/import               {"name","from_publication","publication"} -> tenant (201): main
 *                                            subscribes to that publication (logical import)
 * </pre>
 * A backup is {@code {id, tenant, branch, timeline_id, lsn, label, kind, schedule_id, status,
 * created_at, expires_at, size_bytes, error}} ({@link BackupInfo}). Import reads a tar at an
 * absolute path on the server's machine (the CLI runs there). An export that fails after it started
 * ends without the tar's end-of-archive blocks, which the CLI checks.
 */
public final class BackupRoutes implements Router.Module {
    private static final String BACKUPS = "/v1/tenants/{tenant}/backups";
    private static final String BACKUP = BACKUPS + "/{id}";
    private static final String SCHEDULES = "/v1/tenants/{tenant}/backup-schedules";

    private final BackupService backups;
    private final ObjectMapper json = new ObjectMapper();

    public BackupRoutes(BackupService backups) {
        this.backups = backups;
    }

    @Override
    public void register(Router r) {
        r.add("GET", BACKUPS, q -> backups.listBackups(q.param("tenant"), q.query().get("branch")));
        r.add("POST", BACKUPS, q -> ApiResponse.created(backups.createBackup(q.param("tenant"), q.text("branch", false),
                q.text("label", false))));
        r.add("GET", BACKUP, q -> backups.backup(q.param("tenant"), q.param("id")));
        r.add("DELETE", BACKUP, q -> {
            backups.deleteBackup(q.param("tenant"), q.param("id"));
            return json.createObjectNode();
        });
        r.add("POST", BACKUP + "/restore", q -> ApiResponse.created(backups.restore(q.param("tenant"), q.param("id"),
                q.text("branch", true))));
        r.add("GET", BACKUP + "/export", q -> {
            BackupInfo b = backups.exportable(q.param("tenant"), q.param("id"));
            return ApiResponse.stream("application/x-tar", out -> backups.writeExport(b, out));
        });
        r.add("GET", SCHEDULES, q -> backups.listSchedules(q.param("tenant")));
        r.add("POST", SCHEDULES, q -> ApiResponse.created(backups.createSchedule(q.param("tenant"), q.text("branch", false),
                q.text("frequency", true), q.text("start", false), q.text("retention", true), q.text("name", false))));
        r.add("DELETE", SCHEDULES + "/{id}", q -> {
            backups.deleteSchedule(q.param("tenant"), q.param("id"));
            return json.createObjectNode();
        });
        r.add("GET", "/v1/imports", q -> json.valueToTree(backups.importsRunning()));
        r.add("POST", "/v1/tenants/import", q -> {
            String name = q.text("name", true);
            if (q.has("from_publication")) {
                if (q.has("path") || q.has("from_primary")) {
                    throw ApiException.badRequest("give one of path (a base backup tar), from_primary (a running"
                            + " primary's URI) or from_publication (with publication), not several");
                }
                return ApiResponse.created(backups.importFromPublication(name, q.text("from_publication", true),
                        q.text("publication", true)));
            }
            if (q.has("publication")) {
                throw ApiException.badRequest("publication goes with from_publication (the source's URI)");
            }
            if (q.has("from_primary")) {
                if (q.has("path")) {
                    throw ApiException.badRequest("give either path (a base backup tar) or from_primary (a running"
                            + " primary's URI), not both");
                }
                return ApiResponse.created(backups.importFromPrimary(name, q.text("from_primary", true)));
            }
            String path = q.text("path", true);
            Path tar;
            try {
                tar = Path.of(path);
            } catch (InvalidPathException e) {
                throw ApiException.badRequest("invalid path '" + path + "': " + e.getReason());
            }
            return ApiResponse.created(backups.importTenant(name, tar));
        });
    }
}

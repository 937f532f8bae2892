package org.outlierlab.jobs.metrics;

import java.util.List;

/** What the metrics job did: the snapshot directories it aggregated, the token rows read, the rows it wrote and where. */
public record MetricsResult(List<String> snapshotDirs, long tokenRows, long rowsWritten, String table) {
  public MetricsResult {
    snapshotDirs = List.copyOf(snapshotDirs);
  }
}

package org.outlierlab.jobs.sql;

import java.util.List;

/** What bin/oflab sql-server served: the JDBC URL and the views. */
public record SqlServerResult(String url, List<String> views) {
  public SqlServerResult {
    views = List.copyOf(views);
  }
}

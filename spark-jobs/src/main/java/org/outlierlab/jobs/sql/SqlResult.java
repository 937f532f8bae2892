package org.outlierlab.jobs.sql;

import java.util.List;
import java.util.Optional;

/** What bin/oflab sql did: the views it defined, and the views.sql it wrote (none: the warehouse has no tables or is read-only). */
public record SqlResult(List<String> views, Optional<String> viewsFile) {
  public SqlResult {
    views = List.copyOf(views);
  }
}

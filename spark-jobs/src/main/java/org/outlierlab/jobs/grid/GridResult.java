package org.outlierlab.jobs.grid;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** What the grid job did with each point, and which runs it then measured (metrics) and evaluated (quant-eval). */
public record GridResult(String grid, List<GridJob.Outcome> outcomes, List<String> measured, List<String> evaluated,
    boolean dryRun) {
  public GridResult {
    outcomes = List.copyOf(outcomes);
    measured = List.copyOf(measured);
    evaluated = List.copyOf(evaluated);
  }

  /** The table bin/oflab prints at the end: one line per point, then the passes over the runs. */
  public List<String> summary() {
    if (dryRun) {
      return List.of();
    }
    List<String> lines = new ArrayList<>();
    lines.add(String.format(Locale.ROOT, "grid %s: %-36s %-32s %-24s %8s", grid, "run_id", "before", "result",
        "val_loss"));
    for (GridJob.Outcome o : outcomes) {
      String loss = Double.isNaN(o.lastValLoss()) ? "-" : String.format(Locale.ROOT, "%.4f", o.lastValLoss());
      lines.add(String.format(Locale.ROOT, "grid %s: %-36s %-32s %-24s %8s", grid, o.point().runId(), o.before(),
          o.result(), loss));
    }
    lines.add("grid " + grid + ": metrics over " + measured.size() + " of its runs, quant-eval over " + evaluated.size()
        + "; query them with bin/oflab sql \"SELECT run_id, point, status FROM runs WHERE grid = '" + grid + "'\"");
    return lines;
  }
}

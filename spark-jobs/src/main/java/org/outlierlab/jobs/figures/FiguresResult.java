package org.outlierlab.jobs.figures;

import java.util.ArrayList;
import java.util.List;

/** What the figures job drew (each figure's PNG, the CSV of its points, how many) and what it skipped, and why. */
public record FiguresResult(List<Drawn> drawn, List<String> skipped) {
  public FiguresResult {
    drawn = List.copyOf(drawn);
    skipped = List.copyOf(skipped);
  }

  /** One figure: its name, files, points drawn, and points left out (at or below 0 on a log axis). */
  public record Drawn(String figure, String png, String csv, int points, int leftOut) {}

  /** The lines bin/oflab prints when the job ends. */
  public List<String> summary() {
    List<String> lines = new ArrayList<>();
    drawn.forEach(d -> lines.add("figures: " + d.png() + " (" + d.points() + " points; data " + d.csv()
        + (d.leftOut() > 0 ? "; " + d.leftOut() + " points at or below 0 left off the log axis" : "") + ")"));
    skipped.forEach(s -> lines.add("figures: skipped " + s));
    return lines;
  }
}

package org.outlierlab.jobs.train;

import java.util.List;
import java.util.Locale;

/**
 * What the train job did: the run and its directory, the steps trained (from {@code firstStep}, the checkpoint it
 * resumed from or 0, to {@code steps}), how long it took, the averaging rounds and their overhead (in all, and
 * where it went), the last training and validation losses (NaN: none), and whether the outlier alarm stopped it
 * (at {@code steps}, status outliers).
 */
public record TrainResult(String runId, String runDir, long firstStep, long steps, double seconds, long rounds,
    double averagingOverheadSeconds, String overheadBreakdown, double lastLoss, double lastValLoss,
    boolean outliers) {

  /** A run resumed after its last step: nothing trained. */
  static TrainResult alreadyFinished(String runId, String runDir, long steps) {
    return new TrainResult(runId, runDir, steps, steps, 0, 0, 0, "", Double.NaN, Double.NaN, false);
  }

  /** Whether the job trained any step. */
  public boolean trained() {
    return firstStep < steps;
  }

  /** The lines the job ends with. */
  public List<String> summary() {
    if (!trained() && !outliers) {
      return List.of("train: run " + runId + " already finished its " + steps + " steps; nothing to do");
    }
    String validation = Double.isNaN(lastValLoss) ? "no validation loss"
        : String.format(Locale.ROOT, "validation loss %.4f", lastValLoss);
    String done = outliers ? "stopped by the outlier alarm at step " + steps + " (status outliers; the alarms table"
        + " says why)" : "done";
    return List.of(
        String.format(Locale.ROOT, "train: %s in %.1f s (%d rounds, %.1f s of averaging overhead); last loss %.4f, "
            + "%s; run in %s", done, seconds, rounds, averagingOverheadSeconds, lastLoss, validation, runDir),
        "train: averaging overhead: " + overheadBreakdown);
  }
}

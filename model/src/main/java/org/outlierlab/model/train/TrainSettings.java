package org.outlierlab.model.train;

import java.io.Serializable;
import java.util.Set;
import org.outlierlab.model.optim.LrSchedule;

/**
 * How a run trains (the CLI reads these from {@code train.*}; conf/defaults.conf documents each).
 *
 * @param snapshotSteps steps whose forward pass is captured, in addition to every {@code snapshotInterval}
 * @param probe how many sequences of a captured batch go into the snapshot
 * @param fixedProbe capture the first {@code probe} validation sequences at every snapshot step (a forward pass
 *     without gradient), instead of the training batch: the same inputs each time, as the App D decomposition needs
 */
public record TrainSettings(
    String runId,
    String runDir,
    String tokensDir,
    int batchSize,
    long steps,
    long seed,
    LrSchedule schedule,
    double clipNorm,
    long logInterval,
    long evalInterval,
    int evalBatches,
    long checkpointInterval,
    Set<Long> snapshotSteps,
    long snapshotInterval,
    int probe,
    boolean snapshotMlpIn,
    boolean snapshotAttentionEntropy,
    boolean fixedProbe)
    implements Serializable {

  /** The same settings with another seed (each data-parallel worker draws its own batch order). */
  public TrainSettings withSeed(long newSeed) {
    return new TrainSettings(runId, runDir, tokensDir, batchSize, steps, newSeed, schedule, clipNorm, logInterval,
        evalInterval, evalBatches, checkpointInterval, snapshotSteps, snapshotInterval, probe, snapshotMlpIn,
        snapshotAttentionEntropy, fixedProbe);
  }

  boolean snapshotAt(long step) {
    return snapshotSteps.contains(step) || (snapshotInterval > 0 && step % snapshotInterval == 0);
  }

  static boolean every(long interval, long completed) {
    return interval > 0 && completed % interval == 0;
  }
}

package org.outlierlab.model.train;

import java.io.Serializable;
import java.util.Set;
import org.outlierlab.model.optim.LrSchedule;

/**
 * How a run trains (the CLI reads these from {@code train.*}; conf/defaults.conf documents each).
 *
 * @param snapshotSteps steps whose forward pass is captured, in addition to every {@code snapshotInterval}
 * @param snapshotWindow every step in this range is captured too (the App D decomposition needs consecutive steps)
 * @param probe how many sequences of a captured batch go into the snapshot
 * @param snapshotSites the kinds of site captured ({@link org.outlierlab.model.run.Snapshots#SITES}), each at every layer that has it
 * @param snapshotLayers the layers captured (unembed_in's is the number of layers); empty: every layer
 * @param fixedProbe capture the first {@code probe} validation sequences at every snapshot step (a forward pass
 *     without gradient), instead of the training batch: the same inputs each time, as the App D decomposition needs
 * @param shuffleWindow training rows shuffled together, read shard by shard ({@link ShardStream}; 0: the whole split)
 * @param threads threads each worker's training step uses, its batch split among them
 *     ({@link org.outlierlab.model.TransformerLM#useThreads}); 0 until the job resolves "auto"
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
    StepRange snapshotWindow,
    int probe,
    Set<String> snapshotSites,
    Set<Integer> snapshotLayers,
    boolean snapshotAttentionEntropy,
    boolean fixedProbe,
    long shuffleWindow,
    int threads)
    implements Serializable {

  /**
   * Settings by name, every one not given at the default conf/defaults.conf gives it (threads: 1; the schedule:
   * train.lr's 1e-3 warmed up over 5% of the steps, then decayed linearly to 0 at the last step).
   */
  public static Builder builder(String runId, String runDir, String tokensDir) {
    return new Builder(runId, runDir, tokensDir);
  }

  /** These settings as a builder, to change some of them by name. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** Settings by name. A new setting is a record component plus its field, copy, setter and argument here. */
  public static final class Builder {
    private final String runId;
    private final String runDir;
    private final String tokensDir;
    private int batchSize = 32;
    private long steps = 400;
    private long seed = 0;
    private LrSchedule schedule;
    private double clipNorm = 1.0;
    private long logInterval = 10;
    private long evalInterval = 100;
    private int evalBatches = 8;
    private long checkpointInterval = 200;
    private Set<Long> snapshotSteps = Set.of();
    private long snapshotInterval = 100;
    private StepRange snapshotWindow = StepRange.NONE;
    private int probe = 4;
    private Set<String> snapshotSites = Set.of("resid_attn_in", "unembed_in");
    private Set<Integer> snapshotLayers = Set.of();
    private boolean snapshotAttentionEntropy = true;
    private boolean fixedProbe = false;
    private long shuffleWindow = 131072;
    private int threads = 1;

    private Builder(String runId, String runDir, String tokensDir) {
      this.runId = runId;
      this.runDir = runDir;
      this.tokensDir = tokensDir;
    }

    private Builder(TrainSettings s) {
      this(s.runId, s.runDir, s.tokensDir);
      batchSize = s.batchSize;
      steps = s.steps;
      seed = s.seed;
      schedule = s.schedule;
      clipNorm = s.clipNorm;
      logInterval = s.logInterval;
      evalInterval = s.evalInterval;
      evalBatches = s.evalBatches;
      checkpointInterval = s.checkpointInterval;
      snapshotSteps = s.snapshotSteps;
      snapshotInterval = s.snapshotInterval;
      snapshotWindow = s.snapshotWindow;
      probe = s.probe;
      snapshotSites = s.snapshotSites;
      snapshotLayers = s.snapshotLayers;
      snapshotAttentionEntropy = s.snapshotAttentionEntropy;
      fixedProbe = s.fixedProbe;
      shuffleWindow = s.shuffleWindow;
      threads = s.threads;
    }

    public Builder batchSize(int value) {
      batchSize = value;
      return this;
    }

    public Builder steps(long value) {
      steps = value;
      return this;
    }

    public Builder seed(long value) {
      seed = value;
      return this;
    }

    public Builder schedule(LrSchedule value) {
      schedule = value;
      return this;
    }

    public Builder clipNorm(double value) {
      clipNorm = value;
      return this;
    }

    public Builder logInterval(long value) {
      logInterval = value;
      return this;
    }

    public Builder evalInterval(long value) {
      evalInterval = value;
      return this;
    }

    public Builder evalBatches(int value) {
      evalBatches = value;
      return this;
    }

    public Builder checkpointInterval(long value) {
      checkpointInterval = value;
      return this;
    }

    public Builder snapshotSteps(Set<Long> value) {
      snapshotSteps = value;
      return this;
    }

    public Builder snapshotInterval(long value) {
      snapshotInterval = value;
      return this;
    }

    public Builder snapshotWindow(StepRange value) {
      snapshotWindow = value;
      return this;
    }

    public Builder probe(int value) {
      probe = value;
      return this;
    }

    public Builder snapshotSites(Set<String> value) {
      snapshotSites = value;
      return this;
    }

    public Builder snapshotLayers(Set<Integer> value) {
      snapshotLayers = value;
      return this;
    }

    public Builder snapshotAttentionEntropy(boolean value) {
      snapshotAttentionEntropy = value;
      return this;
    }

    public Builder fixedProbe(boolean value) {
      fixedProbe = value;
      return this;
    }

    public Builder shuffleWindow(long value) {
      shuffleWindow = value;
      return this;
    }

    public Builder threads(int value) {
      threads = value;
      return this;
    }

    public TrainSettings build() {
      LrSchedule lr = schedule != null ? schedule
          : new LrSchedule(1e-3, Math.max(1, Math.round(0.05 * steps)), steps, LrSchedule.Decay.LINEAR, 0.0);
      return new TrainSettings(runId, runDir, tokensDir, batchSize, steps, seed, lr, clipNorm, logInterval,
          evalInterval, evalBatches, checkpointInterval, snapshotSteps, snapshotInterval, snapshotWindow, probe,
          snapshotSites, snapshotLayers, snapshotAttentionEntropy, fixedProbe, shuffleWindow, threads);
    }
  }

  /** Steps {@code from} to {@code to}, both included; empty when {@code to < from}. */
  public record StepRange(long from, long to) implements Serializable {
    public static final StepRange NONE = new StepRange(0, -1);

    public boolean contains(long step) {
      return from <= step && step <= to;
    }

    public boolean isEmpty() {
      return to < from;
    }
  }

  boolean snapshotAt(long step) {
    return snapshotSteps.contains(step) || (snapshotInterval > 0 && step % snapshotInterval == 0)
        || snapshotWindow.contains(step);
  }

  boolean hasSnapshots() {
    return snapshotInterval > 0 || !snapshotSteps.isEmpty() || !snapshotWindow.isEmpty();
  }

  static boolean every(long interval, long completed) {
    return interval > 0 && completed % interval == 0;
  }
}

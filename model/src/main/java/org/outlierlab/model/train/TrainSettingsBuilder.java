package org.outlierlab.model.train;

import java.util.Set;
import org.outlierlab.model.optim.LrSchedule;
import org.outlierlab.model.train.TrainSettings.StepRange;

/**
 * {@link TrainSettings} by name ({@link TrainSettings#builder}, {@link TrainSettings#toBuilder}). A new setting is a
 * record component plus its field, copy, setter and argument here.
 */
public final class TrainSettingsBuilder {
  private final String runId;
  private final String runDir;
  private String tokensDir;
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
  private AlarmSettings alarm = AlarmSettings.DEFAULTS;

  TrainSettingsBuilder(String runId, String runDir, String tokensDir) {
    this.runId = runId;
    this.runDir = runDir;
    this.tokensDir = tokensDir;
  }

  TrainSettingsBuilder(TrainSettings s) {
    this(s.runId(), s.runDir(), s.tokensDir());
    batchSize = s.batchSize();
    steps = s.steps();
    seed = s.seed();
    schedule = s.schedule();
    clipNorm = s.clipNorm();
    logInterval = s.logInterval();
    evalInterval = s.evalInterval();
    evalBatches = s.evalBatches();
    checkpointInterval = s.checkpointInterval();
    snapshotSteps = s.snapshotSteps();
    snapshotInterval = s.snapshotInterval();
    snapshotWindow = s.snapshotWindow();
    probe = s.probe();
    snapshotSites = s.snapshotSites();
    snapshotLayers = s.snapshotLayers();
    snapshotAttentionEntropy = s.snapshotAttentionEntropy();
    fixedProbe = s.fixedProbe();
    shuffleWindow = s.shuffleWindow();
    threads = s.threads();
    alarm = s.alarm();
  }

  public TrainSettingsBuilder tokensDir(String value) {
    tokensDir = value;
    return this;
  }

  public TrainSettingsBuilder batchSize(int value) {
    batchSize = value;
    return this;
  }

  public TrainSettingsBuilder steps(long value) {
    steps = value;
    return this;
  }

  public TrainSettingsBuilder seed(long value) {
    seed = value;
    return this;
  }

  public TrainSettingsBuilder schedule(LrSchedule value) {
    schedule = value;
    return this;
  }

  public TrainSettingsBuilder clipNorm(double value) {
    clipNorm = value;
    return this;
  }

  public TrainSettingsBuilder logInterval(long value) {
    logInterval = value;
    return this;
  }

  public TrainSettingsBuilder evalInterval(long value) {
    evalInterval = value;
    return this;
  }

  public TrainSettingsBuilder evalBatches(int value) {
    evalBatches = value;
    return this;
  }

  public TrainSettingsBuilder checkpointInterval(long value) {
    checkpointInterval = value;
    return this;
  }

  public TrainSettingsBuilder snapshotSteps(Set<Long> value) {
    snapshotSteps = value;
    return this;
  }

  public TrainSettingsBuilder snapshotInterval(long value) {
    snapshotInterval = value;
    return this;
  }

  public TrainSettingsBuilder snapshotWindow(StepRange value) {
    snapshotWindow = value;
    return this;
  }

  public TrainSettingsBuilder probe(int value) {
    probe = value;
    return this;
  }

  public TrainSettingsBuilder snapshotSites(Set<String> value) {
    snapshotSites = value;
    return this;
  }

  public TrainSettingsBuilder snapshotLayers(Set<Integer> value) {
    snapshotLayers = value;
    return this;
  }

  public TrainSettingsBuilder snapshotAttentionEntropy(boolean value) {
    snapshotAttentionEntropy = value;
    return this;
  }

  public TrainSettingsBuilder fixedProbe(boolean value) {
    fixedProbe = value;
    return this;
  }

  public TrainSettingsBuilder shuffleWindow(long value) {
    shuffleWindow = value;
    return this;
  }

  public TrainSettingsBuilder threads(int value) {
    threads = value;
    return this;
  }

  public TrainSettingsBuilder alarm(AlarmSettings value) {
    alarm = value;
    return this;
  }

  public TrainSettings build() {
    LrSchedule lr = schedule != null ? schedule
        : new LrSchedule(1e-3, Math.max(1, Math.round(0.05 * steps)), steps, LrSchedule.Decay.LINEAR, 0.0);
    return new TrainSettings(runId, runDir, tokensDir, batchSize, steps, seed, lr, clipNorm, logInterval,
        evalInterval, evalBatches, checkpointInterval, snapshotSteps, snapshotInterval, snapshotWindow, probe,
        snapshotSites, snapshotLayers, snapshotAttentionEntropy, fixedProbe, shuffleWindow, threads, alarm);
  }
}

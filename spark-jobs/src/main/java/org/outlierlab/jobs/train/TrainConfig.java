package org.outlierlab.jobs.train;

import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.outlierlab.jobs.config.ConfigError;
import org.outlierlab.jobs.config.ConfigReader;
import org.outlierlab.model.ModelConfig;
import org.outlierlab.model.ModelConfigBuilder;
import org.outlierlab.model.blas.BlasKernels;
import org.outlierlab.model.optim.AdaFactor;
import org.outlierlab.model.optim.AdamW;
import org.outlierlab.model.optim.EpsPlacement;
import org.outlierlab.model.optim.LrSchedule;
import org.outlierlab.model.optim.Optimizer;
import org.outlierlab.model.optim.RotatedAdaFactor;
import org.outlierlab.model.optim.SgdMomentum;
import org.outlierlab.model.optim.Soap;
import org.outlierlab.model.run.RunLayout;
import org.outlierlab.model.run.Snapshots;
import org.outlierlab.model.train.AlarmSettings;
import org.outlierlab.model.train.TrainSettings;

/** Reads and validates {@code model.*} and {@code train.*}. */
public final class TrainConfig {
  public static final String MODEL = "model";
  public static final String TRAIN = "train";
  public static final String BLAS = "blas";

  enum ProbeInputs {
    BATCH,
    FIXED
  }

  enum OptimizerKind {
    ADAMW,
    ADAFACTOR,
    SGD,
    SOAP,
    ROTATED_ADAFACTOR
  }

  private TrainConfig() {}

  /** The model: the block's preset, then every switch the configuration sets. */
  static ModelConfig model(ConfigReader c, int vocabSize, int rowLength) {
    ModelConfig.Block block = c.choice("model.block", ModelConfig.Block.class);
    int heads = c.intBetween("model.n_heads", 1, 4096);
    int d = c.intBetween("model.d_model", 2, 1 << 16);
    if (d % heads != 0) {
      throw new ConfigError("model.d_model = " + d + " is not a multiple of model.n_heads = " + heads
          + "; allowed: d_model divisible by n_heads");
    }
    int seqLen = c.string("model.seq_len").equals("auto") ? rowLength - 1 : c.intBetween("model.seq_len", 1, 1 << 16);
    int layers = c.intBetween("model.n_layers", 1, 1024);
    ModelConfig.Positions positions = c.choice("model.positions", ModelConfig.Positions.class);
    if (positions == ModelConfig.Positions.ROPE && (d / heads) % 2 != 0) {
      throw new ConfigError("model.positions = rope needs an even head size (d_model / n_heads), got " + d / heads);
    }
    ModelConfigBuilder m = ModelConfig.preset(block, vocabSize, d, layers, heads, seqLen);
    c.choiceOrDefault("model.norm", ModelConfig.Norm.class).ifPresent(m::norm);
    c.boolOrDefault("model.norm_before_qk").ifPresent(m::normBeforeQk);
    c.boolOrDefault("model.norm_before_v").ifPresent(m::normBeforeV);
    c.boolOrDefault("model.norm_before_mlp").ifPresent(m::normBeforeMlp);
    c.boolOrDefault("model.norm_after_residual").ifPresent(m::normAfterResidual);
    c.choiceOrDefault("model.entropy_regulation", ModelConfig.EntropyRegulation.class).ifPresent(m::entropyRegulation);
    c.positiveOrDefault("model.beta").ifPresent(m::beta);
    c.positiveOrDefault("model.embedding_scale").ifPresent(m::embeddingScale);
    return m.finalNorm(c.bool("model.final_norm"))
        .betaTrainable(c.bool("model.beta_trainable"))
        .alpha(c.choice("model.alpha", ModelConfig.Alpha.class))
        .activation(c.choice("model.activation", ModelConfig.Activation.class))
        .positions(positions)
        .tiedEmbeddings(c.bool("model.tied_embeddings"))
        .initStd(c.fraction("model.init_std", 0, 10, true))
        .normEps(c.fraction("model.norm_eps", 0, 1, true))
        .build();
  }

  /** train.snapshot_sites: the kinds of site captured in every snapshot (at least one). */
  private static Set<String> snapshotSites(ConfigReader c) {
    List<String> sites = c.stringListOf("train.snapshot_sites", Snapshots.SITES);
    if (sites.isEmpty()) {
      throw new ConfigError("train.snapshot_sites is empty; allowed: one or more of " + String.join(", ", Snapshots.SITES)
          + " (set train.snapshot_interval = 0 and train.snapshot_steps = [] for no snapshots)");
    }
    return new LinkedHashSet<>(sites);
  }

  /** train.snapshot_window: [] (none) or [from, to], every step from from to to. */
  private static TrainSettings.StepRange snapshotWindow(ConfigReader c) {
    List<Long> w = c.longList("train.snapshot_window");
    if (w.isEmpty()) {
      return TrainSettings.StepRange.NONE;
    }
    if (w.size() != 2 || w.get(0) < 0 || w.get(1) < w.get(0)) {
      throw new ConfigError("train.snapshot_window = " + w + " is not allowed; allowed: [] (none) or [from, to] with "
          + "0 <= from <= to, e.g. [0, 2000] for a snapshot at every step up to 2000");
    }
    return new TrainSettings.StepRange(w.get(0), w.get(1));
  }

  /** train.snapshot_layers: [] (every layer) or layers 0 to model.n_layers (unembed_in's layer). */
  private static Set<Integer> snapshotLayers(ConfigReader c) {
    int layers = c.intBetween("model.n_layers", 1, 1024);
    Set<Integer> chosen = new TreeSet<>();
    for (long l : c.longList("train.snapshot_layers")) {
      if (l < 0 || l > layers) {
        throw new ConfigError("train.snapshot_layers contains " + l + ", which is not allowed; allowed: 0 to "
            + layers + " (model.n_layers; " + layers + " is unembed_in's layer), or [] for every layer");
      }
      chosen.add((int) l);
    }
    return chosen;
  }

  /**
   * train.alarm.*: the sites checked must be captured (train.snapshot_sites); every threshold is a number >= 0 (0:
   * always raised). All are checked whatever the action, so that a configuration valid with off is valid with stop.
   */
  private static AlarmSettings alarm(ConfigReader c, Set<String> snapshotSites) {
    Set<AlarmSettings.Rule> rules = EnumSet.noneOf(AlarmSettings.Rule.class);
    c.stringListOf("train.alarm.rules", AlarmSettings.Rule.columns()).forEach(r -> rules.add(AlarmSettings.Rule.of(r)));
    Set<String> sites = new LinkedHashSet<>(c.stringListOf("train.alarm.sites", Snapshots.SITES));
    AlarmSettings.Action action = c.choice("train.alarm.action", AlarmSettings.Action.class);
    Set<String> uncaptured = new TreeSet<>(sites);
    uncaptured.removeAll(snapshotSites);
    if (action != AlarmSettings.Action.OFF && (sites.isEmpty() || !uncaptured.isEmpty())) {
      throw new ConfigError("train.alarm.sites = " + sites + " is not allowed; allowed: one or more of the captured "
          + "train.snapshot_sites " + snapshotSites + " (or train.alarm.action = off)");
    }
    double max = Double.MAX_VALUE;
    return new AlarmSettings(action, sites, rules, c.longAtLeast("train.alarm.warmup_steps", 0),
        c.fraction("train.alarm.kurtosis", 0, max, true), c.fraction("train.alarm.max_median_ratio", 0, max, true),
        c.fraction("train.alarm.massive_abs", 0, max, true), c.fraction("train.alarm.massive_ratio", 0, max, true),
        c.fraction("train.alarm.growth", 0, max, true), c.longAtLeast("train.alarm.reference_step", 0));
  }

  static TrainSettings settings(ConfigReader c, String block) {
    long steps = c.longAtLeast("train.steps", 1);
    long warmup = Math.round(c.fraction("train.warmup_fraction", 0, 1, true) * steps);
    String runId = c.string("train.run_id");
    if (runId.isEmpty()) {
      runId = block + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    } else if (!runId.matches("[A-Za-z0-9._-]+")) {
      throw new ConfigError("train.run_id = '" + runId + "' is not allowed; allowed: letters, digits, '.', '_', '-'");
    }
    String runDir = RunLayout.in(c.string("train.warehouse"), runId).runDir();
    Set<String> sites = snapshotSites(c);
    return TrainSettings.builder(runId, runDir, c.string("train.tokens"))
        .batchSize(c.intBetween("train.batch_size", 1, 1 << 20))
        .steps(steps)
        .seed(c.longAtLeast("train.seed", Long.MIN_VALUE))
        .schedule(new LrSchedule(c.fraction("train.lr", 0, 100, true), Math.max(1, warmup), steps,
            c.choice("train.decay", LrSchedule.Decay.class), c.fraction("train.min_lr", 0, 100, true)))
        .clipNorm(c.fraction("train.clip", 0, Double.MAX_VALUE, true))
        .logInterval(c.longAtLeast("train.log_interval", 1))
        .evalInterval(c.longAtLeast("train.eval_interval", 0))
        .evalBatches(c.intBetween("train.eval_batches", 1, 1 << 20))
        .checkpointInterval(c.longAtLeast("train.checkpoint_interval", 0))
        .snapshotSteps(new HashSet<>(c.longList("train.snapshot_steps")))
        .snapshotInterval(c.longAtLeast("train.snapshot_interval", 0))
        .snapshotWindow(snapshotWindow(c))
        .probe(c.intBetween("train.probe", 1, 1 << 20))
        .snapshotSites(sites)
        .snapshotLayers(snapshotLayers(c))
        .snapshotAttentionEntropy(c.bool("train.attention_entropy"))
        .fixedProbe(c.choice("train.probe_inputs", ProbeInputs.class) == ProbeInputs.FIXED)
        .shuffleWindow(c.longAtLeast("train.shuffle_window", 0))
        .threads(c.countOrAuto("train.threads", "threads"))
        .alarm(alarm(c, sites))
        .build();
  }

  /** How every worker builds the same optimiser (Spark ships this to the executors). */
  record OptimizerSpec(OptimizerKind kind, double beta1, double beta2, double eps, EpsPlacement epsPlacement,
      double weightDecay, double momentum, double shampooBeta, int preconditionFrequency, int maxPrecondDim)
      implements java.io.Serializable {
    Optimizer create() {
      return switch (kind) {
        case ADAMW -> new AdamW(beta1, beta2, eps, epsPlacement, weightDecay);
        case ADAFACTOR -> new AdaFactor(beta1, beta2, eps, epsPlacement, weightDecay);
        case SGD -> new SgdMomentum(momentum, weightDecay);
        case SOAP -> new Soap(beta1, beta2, shampooBeta, eps, epsPlacement, weightDecay, preconditionFrequency,
            maxPrecondDim);
        case ROTATED_ADAFACTOR -> new RotatedAdaFactor(beta1, beta2, shampooBeta, eps, epsPlacement, weightDecay,
            preconditionFrequency, maxPrecondDim);
      };
    }

    /**
     * A warning when a rotating optimiser's costliest factor is the vocabulary's: a V×V basis costs O(V²·d) per step
     * (more than the model's own products once V is several times d) and O(V³) per refresh. The paper's 50257-token
     * vocabulary is left unrotated by the default max_precond_dim of 10000; a smaller one is not. Null otherwise.
     */
    String vocabularyCostWarning(ModelConfig model) {
      boolean rotates = kind == OptimizerKind.SOAP || kind == OptimizerKind.ROTATED_ADAFACTOR;
      if (!rotates || model.vocabSize() > maxPrecondDim || model.vocabSize() <= model.mlpWidth()) {
        return null;
      }
      return kind.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-') + " rotates the " + model.vocabSize()
          + "-token vocabulary axis (train.max_precond_dim = " + maxPrecondDim + "): every step multiplies "
          + model.vocabSize() + "x" + model.vocabSize() + " matrices and every refresh QR-decomposes them, which can "
          + "cost several times the model's own step (docs/BENCHMARKS.md, optimizers). Set train.max_precond_dim below "
          + model.vocabSize() + " (e.g. " + model.mlpWidth() + ") to leave that axis unrotated, as the paper's "
          + "50257-token vocabulary is at the default";
    }
  }

  /** blas.kernels, checked against this machine's CPU and libraries (each executor checks its own again). */
  static String blasKernels(ConfigReader c) {
    String setting = c.string("blas.kernels");
    try {
      BlasKernels.validate(setting);
    } catch (IllegalArgumentException e) {
      throw new ConfigError(e.getMessage());
    }
    return setting;
  }

  static OptimizerSpec optimizer(ConfigReader c) {
    OptimizerKind kind = c.choice("train.optimizer", OptimizerKind.class);
    double shampooBeta = c.fraction("train.shampoo_beta", -1, 1, false);
    if (shampooBeta < 0 && shampooBeta != -1) {
      throw new ConfigError("train.shampoo_beta = " + shampooBeta + " is out of range; allowed: -1 (use beta2) or "
          + "0 <= value < 1");
    }
    return new OptimizerSpec(kind, c.fraction("train.beta1", 0, 1, false), c.fraction("train.beta2", 0, 1, false),
        c.fraction("train.eps", 0, 1, true), c.choice("train.eps_placement", EpsPlacement.class),
        c.fraction("train.weight_decay", 0, 1, true),
        c.fraction("train.momentum", 0, 1, false), shampooBeta,
        c.intBetween("train.precondition_frequency", 1, Integer.MAX_VALUE),
        c.intBetween("train.max_precond_dim", 0, Integer.MAX_VALUE));
  }
}

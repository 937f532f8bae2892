package org.outlierlab.model.train;

import java.io.Serializable;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * The outlier alarm ({@link OutlierAlarm}; the CLI reads these from {@code train.alarm.*}, conf/defaults.conf
 * documents each and SCIENCE.md §1.8 justifies the defaults).
 *
 * @param action what a raised alarm does
 * @param sites the snapshot sites checked, each at every layer captured
 * @param rules the rules checked
 * @param warmupSteps no rule is checked at snapshot steps before this one
 * @param kurtosis the {@link Rule#KURTOSIS} threshold on Eq 1 (1: every neuron alike)
 * @param maxMedianRatio the {@link Rule#MAX_MEDIAN_RATIO} threshold on Eq 2's mean over the tokens
 * @param massiveAbs the {@link Rule#MASSIVE_ACTIVATION} threshold on |a|
 * @param massiveRatio the {@link Rule#MASSIVE_ACTIVATION} threshold on |a| / the median |a| of the layer
 * @param growth the {@link Rule#GROWTH} threshold on the kurtosis over its value at the reference snapshot
 * @param referenceStep the first snapshot at or after this step is the growth rule's reference
 */
public record AlarmSettings(Action action, Set<String> sites, Set<Rule> rules, long warmupSteps, double kurtosis,
    double maxMedianRatio, double massiveAbs, double massiveRatio, double growth, long referenceStep)
    implements Serializable {

  /** What a raised alarm does: nothing (and no rule is checked), a warning and an alarms row, or those and a stop. */
  public enum Action {
    OFF,
    WARN,
    STOP
  }

  /** A rule, by its name in the alarms table's {@code rule} column. */
  public enum Rule {
    KURTOSIS("kurtosis"),
    MAX_MEDIAN_RATIO("max_median_ratio"),
    MASSIVE_ACTIVATION("massive_activation"),
    GROWTH("growth");

    private final String column;

    Rule(String column) {
      this.column = column;
    }

    public String column() {
      return column;
    }

    /** Every rule's column name, in order. */
    public static List<String> columns() {
      return Arrays.stream(values()).map(Rule::column).toList();
    }

    /** The rule of that column name. */
    public static Rule of(String column) {
      return values()[columns().indexOf(column)];
    }
  }

  /** conf/defaults.conf's alarm. */
  public static final AlarmSettings DEFAULTS = new AlarmSettings(Action.WARN, Set.of("resid_attn_in"),
      Set.of(Rule.values()), 100, 10, 20, 100, 1000, 10, 0);

  /** No alarm. */
  public static final AlarmSettings OFF = DEFAULTS.withAction(Action.OFF);

  public AlarmSettings withAction(Action value) {
    return new AlarmSettings(value, sites, rules, warmupSteps, kurtosis, maxMedianRatio, massiveAbs, massiveRatio,
        growth, referenceStep);
  }

  boolean on() {
    return action != Action.OFF;
  }
}

package org.outlierlab.jobs.figures;

import com.typesafe.config.Config;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.outlierlab.jobs.config.ConfigError;
import org.outlierlab.jobs.config.ConfigReader;
import org.outlierlab.jobs.spark.SparkSettings;

/** What the figures job draws: from which warehouse, for which runs (empty: all), which figures, into which directory. */
public record FiguresSettings(String warehouse, List<String> runs, List<Figure> figures, String out,
    SparkSettings spark) {
  public static final String SECTION = "figures";

  public FiguresSettings {
    runs = List.copyOf(runs);
    figures = List.copyOf(figures);
  }

  public static FiguresSettings read(Config config) {
    ConfigReader c = new ConfigReader(config);
    List<String> names = Arrays.stream(Figure.values()).map(Figure::fileName).toList();
    List<String> allowed = new ArrayList<>(List.of("all"));
    allowed.addAll(names);
    List<String> chosen = c.stringListOf("figures.list", allowed);
    if (chosen.isEmpty()) {
      throw new ConfigError("figures.list is empty; allowed: all, or some of " + String.join(", ", names));
    }
    List<Figure> figures = chosen.contains("all") ? List.of(Figure.values())
        : chosen.stream().map(n -> Figure.values()[names.indexOf(n)]).toList();
    String out = c.string("figures.out");
    String warehouse = c.string("figures.warehouse");
    return new FiguresSettings(warehouse, c.stringList("figures.runs"), figures,
        out.isEmpty() ? warehouse + "/figures" : out, SparkSettings.read(config));
  }
}

package org.outlierlab.jobs.figures;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;

/**
 * Draws a figure's points as one PNG: a panel (an XChart line or scatter chart) per panel value, side by side in rows
 * of {@value #COLUMNS}, every panel on the same axis ranges, under the figure's title. Headless.
 */
final class FigureRenderer {
  static final int PANEL_WIDTH = 560;
  static final int PANEL_HEIGHT = 400;
  static final int TITLE_HEIGHT = 40;
  static final int COLUMNS = 3;

  /** One point of a figure: its panel, series, x and y. */
  record Point(String panel, String series, double x, double y) {}

  private FigureRenderer() {}

  static {
    System.setProperty("java.awt.headless", "true");
  }

  /** The image's size for {@code panels} panels: [width, height]. */
  static int[] size(int panels) {
    int columns = Math.min(COLUMNS, panels);
    int rows = (panels + COLUMNS - 1) / COLUMNS;
    return new int[] {columns * PANEL_WIDTH, TITLE_HEIGHT + rows * PANEL_HEIGHT};
  }

  /** The PNG of {@code points} (grouped by panel and series in the order given). */
  static byte[] png(Figure f, List<Point> points) throws IOException {
    Map<String, Map<String, List<Point>>> panels = new LinkedHashMap<>();
    for (Point p : points) {
      panels.computeIfAbsent(p.panel(), k -> new LinkedHashMap<>()).computeIfAbsent(p.series(), k -> new ArrayList<>())
          .add(p);
    }
    double[] xRange = range(points, true);
    double[] yRange = range(points, false);
    int[] size = size(panels.size());
    BufferedImage image = new BufferedImage(size[0], size[1], BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, size[0], size[1]);
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
    g.drawString(f.title, 12, 26);
    int i = 0;
    for (Map.Entry<String, Map<String, List<Point>>> panel : panels.entrySet()) {
      XYChart chart = chart(f, panel.getKey(), panel.getValue(), xRange, yRange);
      g.drawImage(BitmapEncoder.getBufferedImage(chart), (i % COLUMNS) * PANEL_WIDTH,
          TITLE_HEIGHT + (i / COLUMNS) * PANEL_HEIGHT, null);
      i++;
    }
    g.dispose();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(image, "png", out);
    return out.toByteArray();
  }

  private static XYChart chart(Figure f, String panel, Map<String, List<Point>> series, double[] xRange,
      double[] yRange) {
    XYChart chart = new XYChartBuilder().width(PANEL_WIDTH).height(PANEL_HEIGHT).title(panel).xAxisTitle(f.xLabel)
        .yAxisTitle(f.yLabel).build();
    var styler = chart.getStyler();
    styler.setDefaultSeriesRenderStyle(f.kind == Figure.Kind.LINE ? XYSeries.XYSeriesRenderStyle.Line
        : XYSeries.XYSeriesRenderStyle.Scatter);
    styler.setMarkerSize(f.kind == Figure.Kind.LINE ? 3 : 7);
    styler.setYAxisLogarithmic(f.logY);
    styler.setLegendPosition(Styler.LegendPosition.OutsideS);
    styler.setLegendLayout(Styler.LegendLayout.Horizontal);
    styler.setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
    styler.setChartBackgroundColor(Color.WHITE);
    styler.setXAxisMin(xRange[0]).setXAxisMax(xRange[1]).setYAxisMin(yRange[0]).setYAxisMax(yRange[1]);
    // a log axis over several decades needs exponents; otherwise plain numbers
    styler.setXAxisDecimalPattern("#,##0.###");
    styler.setYAxisDecimalPattern(f.logY && yRange[1] / yRange[0] > 100 ? "0.#E0" : "#,##0.###");
    series.forEach((name, pts) -> chart.addSeries(name, pts.stream().mapToDouble(Point::x).toArray(),
        pts.stream().mapToDouble(Point::y).toArray()));
    return chart;
  }

  /** The shared range of x or y over every panel, padded a little (a flat series still gets a visible range). */
  private static double[] range(List<Point> points, boolean x) {
    double lo = points.stream().mapToDouble(p -> x ? p.x() : p.y()).min().orElse(0);
    double hi = points.stream().mapToDouble(p -> x ? p.x() : p.y()).max().orElse(1);
    if (lo == hi) {
      double pad = lo == 0 ? 1 : Math.abs(lo) * 0.05;
      return new double[] {lo - pad, hi + pad};
    }
    return new double[] {lo, hi};
  }

  /** The points as CSV (panel,series,x,y), exactly what is drawn. */
  static String csv(List<Point> points) {
    StringBuilder out = new StringBuilder("panel,series,x,y\n");
    for (Point p : points) {
      out.append(quoted(p.panel())).append(',').append(quoted(p.series())).append(',')
          .append(String.format(Locale.ROOT, "%s,%s", Double.toString(p.x()), Double.toString(p.y()))).append('\n');
    }
    return out.toString();
  }

  private static String quoted(String s) {
    return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
  }
}

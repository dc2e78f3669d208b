// uPlot's own stylesheet, bundled by Vite with the view that draws the chart.
declare module 'uplot/dist/uPlot.min.css';

/* Celsius to Fahrenheit (temperature.h). */
#include "core/temperature.h"

static double tenth(double x)
{
    double t = x * 10;
    return (double)(long long)(t + (t >= 0 ? 0.5 : -0.5)) / 10;
}

double temperature_fahrenheit(double celsius) { return tenth(celsius * 9.0 / 5.0 + 32.0); }

double temperature_fahrenheit_delta(double celsius) { return tenth(celsius * 9.0 / 5.0); }
